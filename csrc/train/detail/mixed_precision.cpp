#include "mixed_precision.h"

namespace fcnlab {
namespace train {
namespace detail {

MixedPrecision::MixedPrecision(Precision precision, c10::Device device)
    : precision_(precision), device_(device) {
  if (precision_ == Precision::kFloat16) {
    scaler_ = std::make_unique<GradScaler>(device_);
  }
}

at::Tensor MixedPrecision::scale(const at::Tensor& loss) const {
  return scaler_ ? scaler_->scale(loss) : loss;
}

double MixedPrecision::step(
    Solver& solver,
    const std::vector<at::Tensor>& parameters,
    int64_t iteration) {
  if (!scaler_) {
    return solver.step(iteration);
  }
  std::vector<at::Tensor> grads;
  for (const auto& parameter : parameters) {
    grads.push_back(parameter.grad());
  }
  double rate = 0;
  if (scaler_->unscale(grads)) {
    rate = solver.step(iteration);
  } else {
    solver.zero_grad(); // an overflow: skipped, the scale backs off
    rate = learning_rate(solver.options(), iteration);
  }
  scaler_->update();
  return rate;
}

util::detail::NamedTensors MixedPrecision::state() const {
  return scaler_ ? scaler_->state() : util::detail::NamedTensors{};
}

void MixedPrecision::load_state(const util::detail::NamedTensors& state) {
  if (!scaler_) {
    return;
  }
  for (const auto& [name, live] : scaler_->state()) {
    for (const auto& [stored_name, stored] : state) {
      if (stored_name == name && stored.sizes() == live.sizes()) {
        live.copy_(stored);
      }
    }
  }
}

} // namespace detail
} // namespace train
} // namespace fcnlab
