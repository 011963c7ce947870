#include <fcnlab/train/solver.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cmath>

namespace fcnlab {
namespace train {

LrPolicy parse_lr_policy(const std::string& name) {
  if (name == "fixed") {
    return LrPolicy::kFixed;
  }
  if (name == "step") {
    return LrPolicy::kStep;
  }
  if (name == "multistep") {
    return LrPolicy::kMultiStep;
  }
  if (name == "poly") {
    return LrPolicy::kPoly;
  }
  if (name == "inv") {
    return LrPolicy::kInv;
  }
  TORCH_CHECK_VALUE(
      name == "exp",
      "lr policy must be fixed, step, multistep, poly, inv or "
      "exp, got ",
      name);
  return LrPolicy::kExp;
}

double learning_rate(const SolverOptions& o, int64_t iteration) {
  const double it = static_cast<double>(iteration);
  switch (o.lr_policy()) {
    case LrPolicy::kFixed:
      return o.base_lr();
    case LrPolicy::kStep:
      TORCH_CHECK_VALUE(o.step_size() > 0, "step policy needs step_size > 0");
      return o.base_lr() *
          std::pow(o.gamma(), std::floor(it / double(o.step_size())));
    case LrPolicy::kMultiStep: {
      const auto passed = std::count_if(
          o.step_values().begin(), o.step_values().end(), [&](int64_t value) {
            return iteration >= value;
          });
      return o.base_lr() * std::pow(o.gamma(), double(passed));
    }
    case LrPolicy::kPoly:
      TORCH_CHECK_VALUE(o.max_iter() > 0, "poly policy needs max_iter > 0");
      return o.base_lr() *
          std::pow(std::max(0.0, 1.0 - it / double(o.max_iter())), o.power());
    case LrPolicy::kInv:
      return o.base_lr() * std::pow(1.0 + o.gamma() * it, -o.power());
    case LrPolicy::kExp:
      return o.base_lr() * std::pow(o.gamma(), it);
  }
  TORCH_CHECK(false, "unknown lr policy");
}

std::vector<ParamSpec> param_specs(const models::FcnNet& model) {
  std::vector<ParamSpec> specs;
  for (const auto& parameter : model->layer_parameters()) {
    if (parameter.rule.lr_mult == 0) {
      continue;
    }
    specs.push_back(
        {parameter.name,
         parameter.tensor,
         parameter.rule.lr_mult,
         parameter.rule.decay_mult});
  }
  return specs;
}

SgdSolver::SgdSolver(std::vector<ParamSpec> params, SolverOptions options)
    : params_(std::move(params)), options_(std::move(options)) {
  TORCH_CHECK_VALUE(options_.iter_size() >= 1, "iter_size must be >= 1");
  for (const auto& spec : params_) {
    history_.push_back(at::zeros_like(spec.parameter));
  }
}

double SgdSolver::step(int64_t iteration) {
  const double rate = learning_rate(options_, iteration);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& w = params_[i].parameter;
    const auto& grad = w.grad();
    if (!grad.defined()) {
      continue;
    }
    // Caffe: normalize by iter_size, regularize, then momentum, folded into
    // in-place updates of the history (no temporaries of the weights' size).
    const double scaled_rate = rate * params_[i].lr_mult;
    const double decay = options_.weight_decay() * params_[i].decay_mult;
    auto& history = history_[i];
    history.mul_(options_.momentum())
        .add_(grad, scaled_rate / static_cast<double>(options_.iter_size()));
    if (decay != 0) {
      history.add_(w, scaled_rate * decay);
    }
    w.sub_(history);
  }
  zero_grad();
  return rate;
}

void SgdSolver::zero_grad() {
  for (auto& spec : params_) {
    auto& grad = spec.parameter.mutable_grad();
    if (grad.defined()) {
      grad.zero_();
    }
  }
}

std::vector<std::pair<std::string, at::Tensor>> SgdSolver::state() const {
  std::vector<std::pair<std::string, at::Tensor>> state;
  for (size_t i = 0; i < params_.size(); ++i) {
    state.emplace_back("history." + params_[i].name, history_[i]);
  }
  return state;
}

} // namespace train
} // namespace fcnlab
