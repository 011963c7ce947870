#pragma once

#include <fcnlab/train/trainer.h>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace fcnlab {
namespace tools {

/// --seed, --workers, --progress-seconds, --dist-timeout, --dist-backend
/// and --no-overlap of the commands that train.
struct RunFlags {
  uint64_t seed = 0;
  int workers = 2;
  double progress_seconds = 30;
  double timeout_seconds = 300;
  std::string backend = "auto";
  bool no_overlap = false;
  /// --seed, to tell whether it was given.
  CLI::Option* seed_option = nullptr;

  /// `seeded` says what the seed draws ("initialisation and order").
  void add_to(CLI::App* command, const std::string& seeded);
  /// Sets these flags, and this process's thread count, in `options`.
  void apply_to(train::TrainerOptions& options) const;
};

} // namespace tools
} // namespace fcnlab
