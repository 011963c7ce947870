#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace fcnlab {
namespace tools {

/// --seed, --workers, --progress-seconds, --dist-timeout and --no-overlap
/// of the commands that train.
struct RunFlags {
  uint64_t seed = 0;
  int workers = 2;
  double progress_seconds = 30;
  double timeout_seconds = 300;
  bool no_overlap = false;

  /// `seeded` says what the seed draws ("initialisation and order").
  void add_to(CLI::App* command, const std::string& seeded);
};

} // namespace tools
} // namespace fcnlab
