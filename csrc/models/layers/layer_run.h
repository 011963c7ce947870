#pragma once

#include <fcnlab/models/net_spec.h>

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace torch {
namespace nn {
class Module;
} // namespace nn
} // namespace torch

namespace fcnlab {
namespace models {
namespace detail {
class WeightCache;
} // namespace detail

namespace layers {

/// One layer's step of a forward pass: what LayerDef::forward reads, and the
/// few things a fast path reports back to the interpreter.
struct LayerRun {
  const NetSpec& net;
  const LayerSpec& layer;
  /// The layer's submodule (LayerDef::make_module), or null.
  torch::nn::Module* module;
  /// The bottoms, in order.
  std::vector<at::Tensor> in;
  /// forward() itself runs the layers (no layer call): a fast path may fuse
  /// or reorder work, as long as it computes what the plain module computes.
  bool fast;
  /// No gradient needs in[0] and nothing else refers to it: a layer in
  /// place may overwrite it.
  bool may_overwrite;
  detail::WeightCache& weights;
  /// (height, width) offset of every Crop layer.
  const std::map<std::string, std::pair<int64_t, int64_t>>& crop_offsets;

  /// Deconvolution: the Crop that alone reads its output, which it may fold
  /// into its own work, and that Crop's reference blob when it exists
  /// already. Set `folded_crop` when it did.
  const LayerSpec* crop_to_fold = nullptr;
  const at::Tensor* crop_reference = nullptr;
  bool folded_crop = false;
  /// Crop: the Deconvolution before it did the cropping; pass in[0] on.
  bool cropped_already = false;
};

/// Throws c10::Error starting with `where` unless `blob` (height x width)
/// holds a crop of crop_h x crop_w at offset (off_y, off_x).
void check_crop_fits(
    const std::string& where,
    const std::string& blob,
    int64_t height,
    int64_t width,
    int64_t crop_h,
    int64_t crop_w,
    int64_t off_y,
    int64_t off_x);

} // namespace layers
} // namespace models
} // namespace fcnlab
