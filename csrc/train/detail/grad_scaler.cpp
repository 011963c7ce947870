#include "grad_scaler.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/Exception.h>

namespace fcnlab {
namespace train {
namespace detail {

GradScaler::GradScaler(
    c10::Device device,
    double scale,
    double growth,
    double backoff,
    int64_t interval)
    : growth_(growth), backoff_(backoff), interval_(interval) {
  TORCH_CHECK_VALUE(
      scale > 0 && growth > 1 && backoff > 0 && backoff < 1 && interval >= 1,
      "loss scaling needs scale > 0, growth > 1, 0 < backoff < 1, interval >= 1");
  const auto on = at::TensorOptions().device(device);
  scale_ = at::full({1}, scale, on.dtype(at::kFloat));
  growth_tracker_ = at::zeros({1}, on.dtype(at::kInt));
  found_inf_ = at::zeros({1}, on.dtype(at::kFloat));
}

at::Tensor GradScaler::scale(const at::Tensor& loss) const {
  return loss * scale_.to(loss.scalar_type());
}

bool GradScaler::unscale(const std::vector<at::Tensor>& grads) {
  const at::NoGradGuard no_grad;
  found_inf_.zero_();
  const auto inverse = scale_.to(at::kDouble).reciprocal().to(at::kFloat);
  std::vector<at::Tensor> defined;
  for (const auto& grad : grads) {
    if (grad.defined()) {
      defined.push_back(grad);
    }
  }
  if (scale_.is_cuda()) {
    at::_amp_foreach_non_finite_check_and_unscale_(
        defined, found_inf_, inverse);
  } else {
    bool found = false;
    for (auto& grad : defined) {
      found = found || !at::isfinite(grad).all().item<bool>();
      grad.mul_(inverse);
    }
    found_inf_.fill_(found ? 1.0 : 0.0);
  }
  return found_inf_.item<float>() == 0;
}

void GradScaler::update() {
  const at::NoGradGuard no_grad;
  if (scale_.is_cuda()) {
    at::_amp_update_scale_(
        scale_, growth_tracker_, found_inf_, growth_, backoff_, interval_);
    return;
  }
  if (found_inf_.item<float>() != 0) {
    scale_.mul_(backoff_);
    growth_tracker_.zero_();
  } else if (growth_tracker_.item<int>() + 1 == interval_) {
    scale_.mul_(growth_);
    growth_tracker_.zero_();
  } else {
    growth_tracker_.add_(1);
  }
}

double GradScaler::current_scale() const {
  return scale_.item<double>();
}

std::vector<std::pair<std::string, at::Tensor>> GradScaler::state() const {
  return {{"scale", scale_}, {"growth_tracker", growth_tracker_}};
}

} // namespace detail
} // namespace train
} // namespace fcnlab
