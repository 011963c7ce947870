#pragma once

#include <fcnlab/data/augment.h>

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace fcnlab {
namespace tools {

/// The augmentation flags of `train` and `explore-db` (all off by default).
struct AugmentFlags {
  bool flip = false;
  std::vector<double> scale;
  double rotate = 0;
  bool quarter_turns = false;
  std::string crop;
  double hue = 0, saturation = 0, brightness = 0, noise = 0;

  void add_to(CLI::App* command);
  /// The options; ranges that make no sense are errors naming the flag.
  data::AugmentOptions options() const;
};

} // namespace tools
} // namespace fcnlab
