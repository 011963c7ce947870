#pragma once

#include <fcnlab/models/fcn_net.h>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fcnlab {
namespace train {

/// Caffe's learning-rate policies.
enum class LrPolicy { kFixed, kStep, kMultiStep, kPoly, kInv, kExp };

/// "fixed", "step", "multistep", "poly", "inv", "exp" -> LrPolicy; throws
/// c10::ValueError otherwise.
LrPolicy parse_lr_policy(const std::string& name);

/// Options of Caffe's SGD solver (DIGITS' defaults for FCN-Alexnet).
struct SolverOptions {
  TORCH_ARG(double, base_lr) = 1e-4;
  TORCH_ARG(double, momentum) = 0.9;
  TORCH_ARG(double, weight_decay) = 5e-4;
  TORCH_ARG(LrPolicy, lr_policy) = LrPolicy::kStep;
  /// step, multistep, inv, exp: the factor (Caffe's gamma).
  TORCH_ARG(double, gamma) = 0.1;
  /// step: updates per step; 0 lets the Trainer use a third of training
  /// (DIGITS' "step every 33%").
  TORCH_ARG(int64_t, step_size) = 0;
  /// multistep: the iterations at which the rate is multiplied by gamma.
  TORCH_ARG(std::vector<int64_t>, step_values) = {};
  /// poly, inv: the exponent.
  TORCH_ARG(double, power) = 1.0;
  /// poly: the last update; 0 lets the Trainer use the training length.
  TORCH_ARG(int64_t, max_iter) = 0;
  /// Images whose gradients are summed (and divided by iter_size) per update.
  TORCH_ARG(int64_t, iter_size) = 1;
};

/// Caffe's learning rate at `iteration` (counted in updates):
/// fixed: base; step: base * gamma^floor(it/step_size); multistep: base *
/// gamma^(number of step values <= it); poly: base * (1 - it/max_iter)^power;
/// inv: base * (1 + gamma*it)^-power; exp: base * gamma^it.
double learning_rate(const SolverOptions& options, int64_t iteration);

/// A parameter with Caffe's per-parameter multipliers.
struct ParamSpec {
  std::string name;
  at::Tensor parameter;
  double lr_mult = 1.0;
  double decay_mult = 1.0;
};

/// The parameters that training updates, each with the lr_mult and
/// decay_mult of its layer's `param {}` block (Caffe's 1 and 1 where the
/// description has none); parameters with lr_mult 0 (FCN's fixed bilinear
/// upsampling, the at-once net's skip scales) are left out. For
/// FCN-Alexnet: every weight and bias at 1/1 except score_fr's bias (lr x2,
/// no decay).
std::vector<ParamSpec> param_specs(const models::FcnNet& model);

/// Caffe's SGD: with g the gradient summed over iter_size images,
///   V <- momentum * V + lr * lr_mult * (g / iter_size + wd * decay_mult * w)
///   w <- w - V
class SgdSolver {
 public:
  SgdSolver(std::vector<ParamSpec> params, SolverOptions options);

  /// Applies one update with the rate of `iteration` from the accumulated
  /// gradients, then zeroes them. Returns the rate used.
  double step(int64_t iteration);
  /// Zeroes every gradient.
  void zero_grad();

  const SolverOptions& options() const {
    return options_;
  }
  const std::vector<ParamSpec>& params() const {
    return params_;
  }

  /// The solver's state by name ("history.<parameter>": the momentum), for
  /// snapshots. These are the tensors the solver updates: filling them in
  /// place restores it.
  std::vector<std::pair<std::string, at::Tensor>> state() const;

 private:
  std::vector<ParamSpec> params_;
  SolverOptions options_;
  std::vector<at::Tensor> history_;
};

} // namespace train
} // namespace fcnlab
