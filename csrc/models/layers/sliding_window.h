#pragma once

#include <fcnlab/models/coord_map.h>
#include <fcnlab/models/net_spec.h>

#include <torch/expanding_array.h>

#include <string>
#include <vector>

namespace fcnlab {
namespace models {
namespace layers {

/// (height, width) as LibTorch's options take them.
inline torch::ExpandingArray<2> height_width(int64_t height, int64_t width) {
  return torch::ExpandingArray<2>(std::vector<int64_t>{height, width});
}

/// The geometry along height (axis 0) or width (1) of a layer sliding
/// `window`: a dilated kernel spans dilation*(k-1)+1 input positions.
inline LayerGeometry window_geometry(
    const std::string& name,
    const Window& window,
    LayerKind kind,
    int axis) {
  const bool height = axis == 0;
  const int64_t kernel = height ? window.kernel_h : window.kernel_w;
  const int64_t dilation = height ? window.dilation_h : window.dilation_w;
  return LayerGeometry{
      name,
      kind,
      dilation * (kernel - 1) + 1,
      height ? window.stride_h : window.stride_w,
      height ? window.pad_h : window.pad_w};
}

/// Caffe's output size of `window` sliding over `size` positions: a
/// convolution rounds down; pooling rounds up when `round_up` (Caffe's
/// default) but never starts a window in the padding alone. 0 when no
/// window fits.
inline int64_t window_count(
    int64_t size,
    const LayerGeometry& window,
    bool pooling,
    bool round_up) {
  const int64_t stride = window.stride;
  const int64_t pad = window.pad;
  const int64_t room = size + 2 * pad - window.kernel;
  if (room < 0) {
    return 0;
  }
  int64_t out = (round_up ? (room + stride - 1) / stride : room / stride) + 1;
  if (pooling && pad > 0 && (out - 1) * stride >= size + pad) {
    --out;
  }
  return out;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
