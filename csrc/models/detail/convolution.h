#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/modules/conv.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace fcnlab {
namespace models {
namespace detail {

/// How a convolution layer slides over its input.
struct ConvShape {
  std::string name; ///< the layer's, keys the cache
  std::vector<int64_t> pad;
  std::vector<int64_t> stride;
  std::vector<int64_t> dilation;
  int64_t groups = 1;
};

/// Facts derived from a network's weights that stay true until a weight
/// changes: oneDNN-layout, Winograd-transformed and bfloat16 copies of
/// convolution weights for inference, and
/// whether a deconvolution is FCN's fixed bilinear upsampling. Each entry
/// remembers the weight tensor, its storage and its version counter, so
/// in-place updates (the solver, copy_), replaced tensors and moves to another
/// device or dtype all invalidate it. Thread-safe.
class WeightCache {
 public:
  /// `weight` in `dtype`, reordered into oneDNN's blocked layout for `layer`.
  at::Tensor packed(
      const ConvShape& layer,
      const at::Tensor& weight,
      at::ScalarType dtype = at::kFloat);

  /// `weight` (or any parameter of layer `name`) in `dtype`, same layout.
  at::Tensor converted(
      const std::string& name,
      const at::Tensor& weight,
      at::ScalarType dtype);

  /// Whether the deconvolution weight of layer `name` (C x C/groups x k x k)
  /// upsamples each channel bilinearly on its own within 1e-6: every slice
  /// bilinear when groups == C, the diagonal bilinear and the rest zero when
  /// groups == 1 (FCN's interp surgery).
  bool is_bilinear(
      const std::string& name,
      const at::Tensor& weight,
      int64_t groups);

  /// The tensor cached under `key` for `weight`, made by `make` (without
  /// grad) when there is none or the weight changed.
  at::Tensor derived(
      const std::string& key,
      const at::Tensor& weight,
      const std::function<at::Tensor()>& make);

  /// Drops every entry (and the memory of the packed weights).
  void clear();

 private:
  struct Entry {
    at::Tensor weight; // keeps the identity (and address) of what was seen
    const void* data = nullptr;
    int64_t version = -1;
    at::Tensor tensor; // what was derived from the weight
    bool bilinear = false;
  };
  /// The entry for `key` when it still describes `weight`, else nullptr.
  Entry* find(const std::string& key, const at::Tensor& weight);
  Entry& store(const std::string& key, const at::Tensor& weight);
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

/// Runs one convolution layer the fastest way the mode and build allow,
/// always computing what `conv` would:
/// - no grad, CPU float: 3x3 stride-1 layers by Winograd where that is on
///   and applies (winograd_convolution);
/// - no grad, CPU float, oneDNN present: for layers whose weight outweighs
///   their activations (fc6, fc7), oneDNN with the cached packed weight
///   (otherwise every call reorders the weight; 151 MB for FCN-Alexnet's
///   fc6); for the others `conv` itself, which with channels-last input
///   runs oneDNN without reordering the activations;
/// - with grad on CPU, for unpadded, stride-1, undilated, ungrouped layers
///   (fc6, fc7, the scorers): one BLAS GEMM over im2col rows, which avoids
///   oneDNN's weight reorders in forward and backward of these wide layers;
/// - otherwise `conv` itself.
/// Under CPU autocast in bfloat16 the same choices run in bfloat16 with
/// cached bfloat16 weights (packed for fc6 and fc7), and the result is
/// bfloat16: without grad, packed or channels-last oneDNN; with grad, the
/// GEMM (its backward too) for the layers above, autocast for the others.
at::Tensor convolve(
    const ConvShape& layer,
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
