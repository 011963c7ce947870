#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <optional>

namespace fcnlab {
namespace models {

/// Caffe's BatchNorm: (x - mean) / sqrt(variance + eps) per channel, with
/// no scale or shift of its own. Its three blobs are parameters that no
/// solver learns (requires_grad false), named as Caffe orders them:
/// "mean" and "variance" (channels), running sums each weighted by
/// "factor" (1 value); the statistics are mean / factor and variance /
/// factor, or zero while factor is 0.
///
/// With the stored statistics (use_global_stats, or unset and in eval())
/// the layer only normalizes. Otherwise it normalizes by the batch's mean
/// and biased variance over N, H, W and updates the sums as Caffe does:
/// factor = f * factor + 1, mean = f * mean + batch mean, variance = f *
/// variance + m / (m - 1) * batch variance, f the moving-average fraction
/// and m = N * H * W.
class BatchNormImpl : public torch::nn::Cloneable<BatchNormImpl> {
 public:
  BatchNormImpl(
      int64_t channels,
      std::optional<bool> use_global_stats = std::nullopt,
      double moving_average_fraction = 0.999,
      double eps = 1e-5);

  /// Creates the three blobs as zeros, as Caffe does.
  void reset() override;

  torch::Tensor forward(const torch::Tensor& x);

  int64_t channels;
  std::optional<bool> use_global_stats;
  double moving_average_fraction;
  double eps;
  torch::Tensor mean;
  torch::Tensor variance;
  torch::Tensor factor;
};

TORCH_MODULE(BatchNorm);

} // namespace models
} // namespace fcnlab
