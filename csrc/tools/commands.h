#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <utility>

namespace fcnlab {
namespace tools {

// Each adds one subcommand to the CLI, whose callback does the work.
void add_summary_command(CLI::App& app);
void add_surgery_command(CLI::App& app);

/// Parses "HxW" (e.g. "375x500"); throws CLI::ValidationError otherwise.
std::pair<int64_t, int64_t> parse_size(const std::string& text);

} // namespace tools
} // namespace fcnlab
