#pragma once

#include <fcnlab/util/autocast.h>

#include <CLI/CLI.hpp>
#include <c10/core/Device.h>

#include <string>

namespace fcnlab {
namespace tools {

/// --device and --amp of the commands that run a network.
struct DeviceFlags {
  std::string device = "cpu";
  std::string amp = "fp32";

  void add_to(CLI::App* command);

  /// The checked device and precision; errors name the flag and the value.
  c10::Device parsed_device() const;
  Precision parsed_precision() const;
};

} // namespace tools
} // namespace fcnlab
