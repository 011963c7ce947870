#pragma once

#include <fcnlab/train/solver.h>

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace fcnlab {
namespace train {
namespace detail {

/// One parameter's update by Caffe's solvers (the equations of Solver):
///   g = grad_scale G + decay (w, or sign(w) for L1), then `type`'s rule.
struct FusedStep {
  SolverType type = SolverType::kSgd;
  double lr = 0;         ///< rate x lr_mult
  double grad_scale = 1; ///< 1 / iter_size
  double decay = 0;      ///< weight_decay x decay_mult
  bool l1 = false;
  double momentum = 0;
  double momentum2 = 0;
  double rms_decay = 0;
  double delta = 0;
  int64_t iteration = 0; ///< Adam's bias correction counts from it
};

/// Applies `step` to w with gradient g and histories h (and h2 for
/// AdaDelta and Adam; undefined otherwise), and zeroes g, in one pass over
/// the tensors. The update is memory-bound (fc6 alone is 151 MB of
/// weights): this reads and writes each tensor once, where one ATen
/// operation per term makes 12 (SGD) to 30 (AdaDelta) passes. Returns false
/// and changes nothing unless all the tensors are contiguous CPU tensors of
/// one floating type (float or double), so other devices keep ATen's
/// operations.
bool fused_step(
    const at::Tensor& w,
    const at::Tensor& g,
    const at::Tensor& h,
    const at::Tensor& h2,
    const FusedStep& step);

} // namespace detail
} // namespace train
} // namespace fcnlab
