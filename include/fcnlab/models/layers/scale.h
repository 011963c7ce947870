#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace fcnlab {
namespace models {

/// Caffe's Scale layer with one bottom (axis 1, num_axes 1): multiplies each
/// channel by its own factor, then adds a per-channel bias if it has one.
/// Parameters "weight" (channels) and, with a bias, "bias" (channels), as
/// Caffe's blobs. Input N x channels x H x W.
class ScaleImpl : public torch::nn::Cloneable<ScaleImpl> {
 public:
  ScaleImpl(int64_t channels, bool bias);

  /// Creates weight (ones) and bias (zeros).
  void reset() override;

  torch::Tensor forward(const torch::Tensor& x);

  int64_t channels;
  bool with_bias;
  torch::Tensor weight;
  torch::Tensor bias;
};

TORCH_MODULE(Scale);

} // namespace models
} // namespace fcnlab
