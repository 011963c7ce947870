#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fcnlab {
namespace train {
namespace detail {

/// Dynamic loss scaling for float16 training, with the rules and defaults of
/// PyTorch's GradScaler: the loss is multiplied by `scale` before backward;
/// before the update the gradients are divided by it, and when any of them
/// is infinite or NaN the update is skipped and the scale multiplied by
/// `backoff`; after `interval` updates in a row without one, it is
/// multiplied by `growth`. State lives on the gradients' device; on CUDA the
/// check and the unscaling are aten's fused amp kernels.
class GradScaler {
 public:
  explicit GradScaler(
      c10::Device device,
      double scale = 65536.0,
      double growth = 2.0,
      double backoff = 0.5,
      int64_t interval = 2000);

  /// loss * scale.
  at::Tensor scale(const at::Tensor& loss) const;
  /// Divides the defined gradients by the scale in place; false when one of
  /// them holds an infinite or NaN value (the update must be skipped).
  bool unscale(const std::vector<at::Tensor>& grads);
  /// Adapts the scale to what the last unscale() found.
  void update();

  double current_scale() const;
  /// "scale" and "growth_tracker", live: filling them restores the scaler.
  std::vector<std::pair<std::string, at::Tensor>> state() const;

 private:
  double growth_, backoff_;
  int64_t interval_;
  at::Tensor scale_;          // float32 [1]
  at::Tensor growth_tracker_; // int32 [1]: updates since the last backoff
  at::Tensor found_inf_;      // float32 [1]: 1 when the last unscale found one
};

} // namespace detail
} // namespace train
} // namespace fcnlab
