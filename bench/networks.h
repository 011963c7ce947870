// The networks the model benchmarks time: FCN-Alexnet (default) or FCN-8s,
// with random scorers so that every layer's output matters.
#pragma once

#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/fcn_alexnet.h>

#include <torch/torch.h>

#include <string>

namespace fcnlab {
namespace bench {

/// "fcn8s" builds FCN-8s, anything else FCN-Alexnet; the scorers' weights
/// are drawn from N(0, 0.01) after seeding with 0.
inline models::FcnNet benchmark_network(const std::string& name) {
  torch::manual_seed(0);
  models::FcnNet net{nullptr};
  if (name == "fcn8s") {
    net = models::FcnNet(models::builtin_net("fcn8s"));
  } else {
    net = models::FcnAlexNet();
  }
  torch::NoGradGuard no_grad;
  for (auto& parameter : net->layer_parameters()) {
    if (parameter.name.rfind("score", 0) == 0 && parameter.tensor.dim() > 1) {
      parameter.tensor.normal_(0, 0.01);
    }
  }
  return net;
}

} // namespace bench
} // namespace fcnlab
