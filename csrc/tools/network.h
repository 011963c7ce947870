#pragma once

#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/models/net_spec.h>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fcnlab {
namespace tools {

/// The --network flag and the FCN-Alexnet options of the commands that
/// build a network.
struct NetworkFlags {
  std::string network = "fcn_alexnet";
  int64_t num_classes = 21;
  std::vector<double> mean{116.0};
  double dropout = 0.5;
  std::string loss_layer;

  /// Adds --network, --num-classes (for built-in networks; `num_classes`
  /// false when the command takes them from the data) and, with
  /// `alexnet_options`, --mean and --dropout; always --loss-layer.
  void add_to(CLI::App* command, bool alexnet_options, bool num_classes = true);

  /// caffe::network_spec() of the flags.
  models::NetSpec spec() const;

  /// caffe::build_network() of the flags.
  models::FcnNet build() const;

  /// Whether --network was given (not left at its default).
  bool network_given() const {
    return network_option_ != nullptr && network_option_->count() > 0;
  }

 private:
  CLI::Option* network_option_ = nullptr;
  models::FcnAlexNetOptions options() const;
};

} // namespace tools
} // namespace fcnlab
