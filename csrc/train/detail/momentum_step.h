#pragma once

#include <ATen/core/Tensor.h>

namespace fcnlab {
namespace train {
namespace detail {

/// One update of Caffe's SGD or Nesterov solver with L2 decay, for one
/// parameter w with gradient g and history h:
///   h' = momentum h + grad_scale g + decay_scale w
///   SGD:      w -= h'
///   Nesterov: w -= (1 + momentum) h' - momentum h
/// grad_scale is lr x lr_mult / iter_size, decay_scale lr x weight_decay x
/// decay_mult.
struct MomentumStep {
  double momentum = 0;
  double grad_scale = 0;
  double decay_scale = 0;
  bool nesterov = false;
};

/// Applies `step` and zeroes g in one pass over the three tensors. The
/// update is memory-bound (fc6 alone is 151 MB of weights), and this reads
/// and writes each tensor once, where one ATen operation per term makes
/// about 12 passes. Returns false and changes nothing unless w, g and h are
/// contiguous CPU tensors of one floating type (float or double), so other
/// devices keep ATen's operations.
bool fused_momentum_step(
    const at::Tensor& w,
    const at::Tensor& g,
    const at::Tensor& h,
    const MomentumStep& step);

} // namespace detail
} // namespace train
} // namespace fcnlab
