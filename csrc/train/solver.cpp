#include <fcnlab/train/solver.h>

#include "detail/fused_step.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <vector>

namespace fcnlab {
namespace train {

namespace {

template <typename Enum>
using NameTable = std::vector<std::pair<std::string, Enum>>;

const NameTable<LrPolicy> kPolicyNames = {
    {"fixed", LrPolicy::kFixed},
    {"step", LrPolicy::kStep},
    {"multistep", LrPolicy::kMultiStep},
    {"poly", LrPolicy::kPoly},
    {"inv", LrPolicy::kInv},
    {"exp", LrPolicy::kExp},
    {"sigmoid", LrPolicy::kSigmoid},
};

const NameTable<SolverType> kSolverNames = {
    {"sgd", SolverType::kSgd},
    {"nesterov", SolverType::kNesterov},
    {"adagrad", SolverType::kAdaGrad},
    {"rmsprop", SolverType::kRmsProp},
    {"adadelta", SolverType::kAdaDelta},
    {"adam", SolverType::kAdam}};

template <typename Enum>
const Enum* find_value(const NameTable<Enum>& table, const std::string& name) {
  for (const auto& [known, value] : table) {
    if (name == known) {
      return &value;
    }
  }
  return nullptr;
}

template <typename Enum>
std::string find_name(const NameTable<Enum>& table, Enum value) {
  for (const auto& [name, known] : table) {
    if (known == value) {
      return name;
    }
  }
  return "?";
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return text;
}

// Caffe's check: a value in [0, 1).
void check_fraction(double value, const char* name) {
  TORCH_CHECK_VALUE(
      value >= 0 && value < 1, name, " must be in [0, 1), got ", value);
}

} // namespace

LrPolicy parse_lr_policy(const std::string& name) {
  const auto* policy = find_value(kPolicyNames, name);
  TORCH_CHECK_VALUE(
      policy != nullptr,
      "lr policy must be fixed, step, multistep, poly, inv, exp or "
      "sigmoid, got ",
      name);
  return *policy;
}

std::string to_string(LrPolicy policy) {
  return find_name(kPolicyNames, policy);
}

SolverType parse_solver_type(const std::string& name) {
  const auto* type = find_value(kSolverNames, lowercase(name));
  TORCH_CHECK_VALUE(
      type != nullptr,
      "solver must be sgd, nesterov, adagrad, rmsprop, adadelta or adam, got ",
      name);
  return *type;
}

std::string to_string(SolverType type) {
  return find_name(kSolverNames, type);
}

double default_momentum(SolverType type) {
  return type == SolverType::kAdaGrad || type == SolverType::kRmsProp ? 0.0
                                                                      : 0.9;
}

Regularization parse_regularization(const std::string& name) {
  if (name == "L2" || name == "l2") {
    return Regularization::kL2;
  }
  TORCH_CHECK_VALUE(
      name == "L1" || name == "l1",
      "regularization must be L1 or L2, got ",
      name);
  return Regularization::kL1;
}

void check_solver_options(const SolverOptions& o) {
  TORCH_CHECK_VALUE(o.base_lr() > 0, "base_lr must be > 0, got ", o.base_lr());
  check_fraction(o.momentum(), "momentum");
  check_fraction(o.momentum2(), "momentum2");
  check_fraction(o.rms_decay(), "rms_decay");
  TORCH_CHECK_VALUE(o.delta() > 0, "delta must be > 0, got ", o.delta());
  TORCH_CHECK_VALUE(
      o.weight_decay() >= 0,
      "weight_decay must be >= 0, got ",
      o.weight_decay());
  TORCH_CHECK_VALUE(
      o.iter_size() >= 1, "iter_size must be >= 1, got ", o.iter_size());
  TORCH_CHECK_VALUE(
      o.step_size() >= 0, "step_size must be >= 0, got ", o.step_size());
  TORCH_CHECK_VALUE(
      o.max_iter() >= 0, "max_iter must be >= 0, got ", o.max_iter());
  TORCH_CHECK_VALUE(
      o.momentum() == 0 ||
          (o.type() != SolverType::kAdaGrad &&
           o.type() != SolverType::kRmsProp),
      to_string(o.type()),
      " takes no momentum (Caffe requires 0), got ",
      o.momentum());
}

SolverDefaults solver_defaults(SolverType type, bool normalized_loss) {
  if (default_momentum(type) == 0) {
    return {normalized_loss ? 1e-4 : 1e-10, 0.0};
  }
  return normalized_loss ? SolverDefaults{1e-4, default_momentum(type)}
                         : SolverDefaults{1e-10, 0.99};
}

SolverOptions for_training_length(SolverOptions o, int64_t total_updates) {
  if (o.step_size() <= 0) {
    const double share = o.lr_policy() == LrPolicy::kSigmoid ? 0.5 : 0.33;
    o.step_size(std::max<int64_t>(1, std::llround(total_updates * share)));
  }
  if (o.max_iter() <= 0) {
    o.max_iter(total_updates);
  }
  return o;
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
    case LrPolicy::kSigmoid:
      return o.base_lr() /
          (1.0 + std::exp(-o.gamma() * (it - double(o.step_size()))));
  }
  TORCH_CHECK(false, "unknown lr policy");
}

std::vector<models::NamedParameter> trainable_parameters(
    const models::FcnNet& model) {
  auto parameters = model->layer_parameters();
  parameters.erase(
      std::remove_if(
          parameters.begin(),
          parameters.end(),
          [](const auto& parameter) { return parameter.rule.lr_mult == 0; }),
      parameters.end());
  return parameters;
}

std::vector<ParameterGroup> group_by_multipliers(
    const std::vector<models::NamedParameter>& parameters) {
  std::vector<ParameterGroup> groups;
  for (const auto& parameter : parameters) {
    const auto same_rule = [&](const ParameterGroup& group) {
      return group.rule.lr_mult == parameter.rule.lr_mult &&
          group.rule.decay_mult == parameter.rule.decay_mult;
    };
    auto group = std::find_if(groups.begin(), groups.end(), same_rule);
    if (group == groups.end()) {
      group = groups.insert(groups.end(), ParameterGroup{parameter.rule, {}});
    }
    group->parameters.push_back(parameter);
  }
  return groups;
}

Solver::Solver(
    std::vector<models::NamedParameter> params,
    SolverOptions options)
    : params_(std::move(params)), options_(std::move(options)) {
  check_solver_options(options_);
  const bool two = options_.type() == SolverType::kAdaDelta ||
      options_.type() == SolverType::kAdam;
  for (const auto& spec : params_) {
    history_.push_back(at::zeros_like(spec.tensor));
    if (two) {
      history2_.push_back(at::zeros_like(spec.tensor));
    }
  }
}

void Solver::clip_gradients() {
  const double clip = options_.clip_gradients();
  if (clip < 0) {
    return;
  }
  std::vector<at::Tensor> sums; // read from the device at once
  for (const auto& spec : params_) {
    const auto& grad = spec.tensor.grad();
    if (grad.defined()) {
      sums.push_back(grad.pow(2).sum().to(at::kDouble));
    }
  }
  if (sums.empty()) {
    return;
  }
  const double norm = std::sqrt(at::stack(sums).sum().item<double>());
  if (norm > clip) {
    for (auto& spec : params_) {
      auto grad = spec.tensor.grad();
      if (grad.defined()) {
        grad.mul_(clip / norm);
      }
    }
  }
}

double Solver::step(int64_t iteration) {
  const double rate = learning_rate(options_, iteration);
  torch::NoGradGuard no_grad;
  clip_gradients();
  const double normalize = 1.0 / static_cast<double>(options_.iter_size());
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& w = params_[i].tensor;
    const auto& grad = w.grad();
    if (!grad.defined()) {
      continue;
    }
    const double lr = rate * params_[i].rule.lr_mult;
    const double decay = options_.weight_decay() * params_[i].rule.decay_mult;
    const bool l2 = options_.regularization() == Regularization::kL2;
    if (options_.fused()) {
      detail::FusedStep one_pass;
      one_pass.type = options_.type();
      one_pass.lr = lr;
      one_pass.grad_scale = normalize;
      one_pass.decay = decay;
      one_pass.l1 = !l2;
      one_pass.momentum = options_.momentum();
      one_pass.momentum2 = options_.momentum2();
      one_pass.rms_decay = options_.rms_decay();
      one_pass.delta = options_.delta();
      one_pass.iteration = iteration;
      const auto& h2 = history2_.empty() ? at::Tensor() : history2_[i];
      if (detail::fused_step(w, grad, history_[i], h2, one_pass)) {
        continue; // the gradient is zeroed too
      }
    }
    if (options_.type() == SolverType::kSgd && l2) {
      // Where the one pass does not apply (a GPU) or is off: folded into
      // in-place updates of the history, no temporary of the weights' size
      // (fc6 of FCN-8s is 400 MB).
      auto& history = history_[i];
      history.mul_(options_.momentum()).add_(grad, lr * normalize);
      if (decay != 0) {
        history.add_(w, lr * decay);
      }
      w.sub_(history);
    } else {
      auto g = grad.mul(normalize);
      if (decay != 0) {
        g.add_(l2 ? w : w.sign(), decay);
      }
      update(i, g, lr, iteration);
    }
    grad.zero_();
  }
  return rate;
}

void Solver::update(
    size_t i,
    const at::Tensor& g,
    double lr,
    int64_t iteration) {
  auto& w = params_[i].tensor;
  auto& h = history_[i];
  const double mu = options_.momentum();
  const double delta = options_.delta();
  switch (options_.type()) {
    case SolverType::kSgd:
      h.mul_(mu).add_(g, lr);
      w.sub_(h);
      return;
    case SolverType::kNesterov:
      w.add_(h, mu); // + mu * h_old
      h.mul_(mu).add_(g, lr);
      w.sub_(h, 1 + mu); // - (1 + mu) * h_new
      return;
    case SolverType::kAdaGrad:
      h.addcmul_(g, g);
      w.addcdiv_(g, h.sqrt().add_(delta), -lr);
      return;
    case SolverType::kRmsProp: {
      const double rho = options_.rms_decay();
      h.mul_(rho).addcmul_(g, g, 1 - rho);
      w.addcdiv_(g, h.sqrt().add_(delta), -lr);
      return;
    }
    case SolverType::kAdaDelta: {
      auto& h2 = history2_[i];
      h.mul_(mu).addcmul_(g, g, 1 - mu);
      const auto u = g * ((h2 + delta) / (h + delta)).sqrt_();
      h2.mul_(mu).addcmul_(u, u, 1 - mu);
      w.sub_(u, lr);
      return;
    }
    case SolverType::kAdam: {
      auto& h2 = history2_[i];
      const double beta2 = options_.momentum2();
      const double t = static_cast<double>(iteration + 1);
      h.mul_(mu).add_(g, 1 - mu);
      h2.mul_(beta2).addcmul_(g, g, 1 - beta2);
      const double correction =
          std::sqrt(1 - std::pow(beta2, t)) / (1 - std::pow(mu, t));
      w.addcdiv_(h, h2.sqrt().add_(delta), -lr * correction);
      return;
    }
  }
}

void Solver::zero_grad() {
  for (auto& spec : params_) {
    auto& grad = spec.tensor.mutable_grad();
    if (grad.defined()) {
      grad.zero_();
    }
  }
}

std::vector<std::pair<std::string, at::Tensor>> Solver::state() const {
  std::vector<std::pair<std::string, at::Tensor>> state;
  for (size_t i = 0; i < params_.size(); ++i) {
    state.emplace_back("history." + params_[i].name, history_[i]);
  }
  for (size_t i = 0; i < history2_.size(); ++i) {
    state.emplace_back("history2." + params_[i].name, history2_[i]);
  }
  return state;
}

} // namespace train
} // namespace fcnlab
