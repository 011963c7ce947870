#pragma once

#include <fcnlab/models/fcn_alexnet.h>

#include <ATen/core/Tensor.h>

#include <map>
#include <mutex>
#include <string>

namespace fcnlab {
namespace models {
namespace detail {

/// Facts derived from FCN-Alexnet's weights that stay true until a weight
/// changes: oneDNN-layout copies of convolution weights for inference, and
/// whether upscore is exactly bilinear. Each entry remembers the weight
/// tensor, its storage and its version counter, so in-place updates (the
/// solver, copy_), replaced tensors and moves to another device or dtype
/// all invalidate it. Thread-safe.
class WeightCache {
 public:
  /// `weight` reordered into oneDNN's blocked layout for `layer`.
  at::Tensor packed(const FcnAlexNetLayer& layer, const at::Tensor& weight);

  /// Whether `weight` (channels x 1 x k x k) equals
  /// bilinear_upsampling_weight(channels, k) within 1e-6.
  bool is_bilinear(const at::Tensor& weight);

  /// Drops every entry (and the memory of the packed weights).
  void clear();

 private:
  struct Entry {
    at::Tensor weight; // keeps the identity (and address) of what was seen
    const void* data = nullptr;
    int64_t version = -1;
    at::Tensor packed;
    bool bilinear = false;
  };
  /// The entry for `key` when it still describes `weight`, else nullptr.
  Entry* find(const std::string& key, const at::Tensor& weight);
  Entry& store(const std::string& key, const at::Tensor& weight);

  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

/// Runs one convolution layer of FCN-Alexnet the fastest way the mode and
/// build allow, always computing what `conv` would:
/// - no grad, CPU float, oneDNN present: oneDNN with the cached packed
///   weight (otherwise every call reorders the weight; 151 MB for fc6);
/// - with grad on CPU, for the unpadded, stride-1, ungrouped layers (fc6,
///   fc7, score_fr): one BLAS GEMM over im2col rows, which avoids oneDNN's
///   weight reorders in forward and backward of these 4096-wide layers;
/// - otherwise `conv` itself.
at::Tensor convolve(
    const FcnAlexNetLayer& layer,
    torch::nn::Conv2dImpl& conv,
    const at::Tensor& x,
    WeightCache& cache);

/// The convolution of x (N x C x H x W) with weight (O x C x kh x kw),
/// stride 1, no padding, as a GEMM. The result has channels-last strides,
/// which lets a following 1x1 layer use it without a copy.
at::Tensor gemm_convolution(
    const at::Tensor& x,
    const at::Tensor& weight,
    const at::Tensor& bias);

} // namespace detail
} // namespace models
} // namespace fcnlab
