#pragma once

#include "grad_scaler.h"

#include <fcnlab/train/solver.h>
#include <fcnlab/util/autocast.h>

#include "../../util/detail/tensor_file.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace fcnlab {
namespace train {
namespace detail {

/// The arithmetic of training, as Lightning's precision plugins own it:
/// autocast around the forward pass, and for float16 the loss scaling
/// (scaled backward, unscaled gradients, an update skipped on overflow) and
/// the scaler's state in snapshots. float32 and bfloat16 need no scaling.
class MixedPrecision {
 public:
  MixedPrecision(Precision precision, c10::Device device);

  Precision precision() const {
    return precision_;
  }
  /// Autocast for the forward pass while alive.
  Autocast forward_context() const {
    return Autocast(device_.type(), precision_);
  }
  /// What backward starts from: the loss, scaled for float16.
  at::Tensor scale(const at::Tensor& loss) const;
  /// Applies the accumulated gradients of `parameters` with `solver` at
  /// `iteration` (unscaled first; skipped when they overflowed, and then
  /// zeroed). Returns the learning rate of the iteration.
  double step(
      Solver& solver,
      const std::vector<at::Tensor>& parameters,
      int64_t iteration);

  /// The scaler's state by name; empty without loss scaling.
  util::detail::NamedTensors state() const;
  /// Restores what state() gave; entries of another precision or size are
  /// passed over (the run starts at the initial scale).
  void load_state(const util::detail::NamedTensors& state);

 private:
  Precision precision_;
  c10::Device device_;
  std::unique_ptr<GradScaler> scaler_; ///< float16 only
};

} // namespace detail
} // namespace train
} // namespace fcnlab
