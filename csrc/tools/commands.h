#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

namespace fcnlab {
namespace tools {

// Each adds one subcommand to the CLI, whose callback does the work.
void add_convolutionalize_command(CLI::App& app);
void add_create_db_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_network_command(CLI::App& app);
void add_segment_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_explore_db_command(CLI::App& app);
void add_prepare_voc_command(CLI::App& app);
void add_prepare_sbd_command(CLI::App& app);
void add_pretrain_command(CLI::App& app);
void add_summary_command(CLI::App& app);
void add_surgery_command(CLI::App& app);
void add_synth_voc_command(CLI::App& app);
void add_upgrade_command(CLI::App& app);

/// A progress callback that rewrites one stderr line: "what: done/total".
std::function<void(size_t, size_t)> progress_line(const std::string& what);

/// Accept numbers in [0, 1) (momentum, dropout ratios), > 0 and >= 0; the
/// messages name the flag and the value ("--lr: value -1 is not > 0").
CLI::Validator fraction_below_one();
CLI::Validator positive_number();
CLI::Validator non_negative_number();

/// Parses "HxW" (e.g. "375x500"); throws CLI::ValidationError otherwise.
std::pair<int64_t, int64_t> parse_size(const std::string& text);

} // namespace tools
} // namespace fcnlab
