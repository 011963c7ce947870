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
enum class LrPolicy { kFixed, kStep, kMultiStep, kPoly, kInv, kExp, kSigmoid };

/// "fixed", "step", "multistep", "poly", "inv", "exp", "sigmoid" ->
/// LrPolicy; throws c10::ValueError naming the text otherwise.
LrPolicy parse_lr_policy(const std::string& name);
/// Caffe's name of `policy` ("multistep").
std::string to_string(LrPolicy policy);

/// Caffe's solvers, as DIGITS offers them.
enum class SolverType { kSgd, kNesterov, kAdaGrad, kRmsProp, kAdaDelta, kAdam };

/// "sgd", "nesterov", "adagrad", "rmsprop", "adadelta", "adam" (any case, so
/// Caffe's "AdaGrad" too) -> SolverType; throws c10::ValueError naming the
/// text otherwise.
SolverType parse_solver_type(const std::string& name);
std::string to_string(SolverType type);

/// The momentum DIGITS writes for `type`: 0.9, except 0 for AdaGrad and
/// RMSProp, which take none.
double default_momentum(SolverType type);

/// Caffe's weight decay: L2 adds decay * w to the gradient, L1 decay *
/// sign(w).
enum class Regularization { kL2, kL1 };
Regularization parse_regularization(const std::string& name);

/// Options of Caffe's solvers (DIGITS' defaults for FCN-Alexnet; Caffe's
/// for delta, momentum2, rms_decay and clip_gradients).
struct SolverOptions {
  TORCH_ARG(SolverType, type) = SolverType::kSgd;
  TORCH_ARG(double, base_lr) = 1e-4;
  /// SGD, Nesterov: momentum; AdaDelta: the decay of both histories; Adam:
  /// beta1. AdaGrad and RMSProp need 0 (Caffe checks it).
  TORCH_ARG(double, momentum) = 0.9;
  /// Adam: beta2.
  TORCH_ARG(double, momentum2) = 0.999;
  /// RMSProp: the decay of the mean square.
  TORCH_ARG(double, rms_decay) = 0.99;
  /// AdaGrad, RMSProp, AdaDelta, Adam: added to the denominators.
  TORCH_ARG(double, delta) = 1e-8;
  TORCH_ARG(double, weight_decay) = 5e-4;
  TORCH_ARG(Regularization, regularization) = Regularization::kL2;
  /// When >= 0, gradients are scaled down together so that their global L2
  /// norm (over every parameter, before dividing by iter_size) is at most
  /// this; negative: off.
  TORCH_ARG(double, clip_gradients) = -1;
  TORCH_ARG(LrPolicy, lr_policy) = LrPolicy::kStep;
  /// step, multistep, inv, exp, sigmoid: the factor (Caffe's gamma).
  TORCH_ARG(double, gamma) = 0.1;
  /// step: updates per step; sigmoid: the update at the midpoint; 0 lets the
  /// Trainer use a third of training (DIGITS' "step every 33%").
  TORCH_ARG(int64_t, step_size) = 0;
  /// multistep: the iterations at which the rate is multiplied by gamma.
  TORCH_ARG(std::vector<int64_t>, step_values) = {};
  /// poly, inv: the exponent.
  TORCH_ARG(double, power) = 1.0;
  /// poly: the last update; 0 lets the Trainer use the training length.
  TORCH_ARG(int64_t, max_iter) = 0;
  /// Images whose gradients are summed (and divided by iter_size) per update.
  TORCH_ARG(int64_t, iter_size) = 1;
  /// Updates each parameter in one pass over its tensors where they allow it
  /// (contiguous CPU float or double), like torch.optim's fused=True;
  /// false: one ATen operation per term, as on other devices.
  TORCH_ARG(bool, fused) = true;
};

/// Throws c10::ValueError naming the option and its value when options make
/// no sense: base_lr <= 0, momentum outside [0, 1) (or not 0 for AdaGrad and
/// RMSProp), momentum2 or rms_decay outside [0, 1), delta <= 0, negative
/// weight_decay, iter_size < 1, negative step_size or max_iter.
void check_solver_options(const SolverOptions& options);

/// The rate and momentum that training starts from when they are not given.
struct SolverDefaults {
  double base_lr = 1e-4;
  double momentum = 0.9;
};

/// For a network whose loss is averaged over pixels (`normalized_loss`,
/// DIGITS' FCN-Alexnet): lr 1e-4 and default_momentum(type). For one whose
/// loss is summed over them (the FCN paper's VGG nets, whose steps are many
/// orders of magnitude larger): the FCN reference's lr 1e-10 and momentum
/// 0.99. AdaGrad and RMSProp take no momentum either way.
SolverDefaults solver_defaults(SolverType type, bool normalized_loss);

/// `options` with the settings left to the training length filled in for
/// `total_updates` updates: a step_size of 0 becomes DIGITS' step every 33%
/// of training (sigmoid: its midpoint at 50%), a max_iter of 0 the last
/// update.
SolverOptions for_training_length(SolverOptions options, int64_t total_updates);

/// Caffe's learning rate at `iteration` (counted in updates):
/// fixed: base; step: base * gamma^floor(it/step_size); multistep: base *
/// gamma^(number of step values <= it); poly: base * (1 - it/max_iter)^power;
/// inv: base * (1 + gamma*it)^-power; exp: base * gamma^it; sigmoid: base /
/// (1 + exp(-gamma * (it - step_size))).
double learning_rate(const SolverOptions& options, int64_t iteration);

/// The parameters that training updates, each with the lr_mult and
/// decay_mult of its layer's `param {}` block (Caffe's 1 and 1 where the
/// description has none); parameters with lr_mult 0 (FCN's fixed bilinear
/// upsampling, the at-once net's skip scales) are left out. For
/// FCN-Alexnet: every weight and bias at 1/1 except score_fr's bias (lr x2,
/// no decay).
std::vector<models::NamedParameter> trainable_parameters(
    const models::FcnNet& model);

/// Parameters that share one pair of multipliers.
struct ParameterGroup {
  models::ParamRule rule;
  std::vector<models::NamedParameter> parameters;
};

/// `parameters` grouped by (lr_mult, decay_mult), the groups in the order
/// their pair first appears and each keeping its parameters' order: what a
/// torch.optim optimizer needs (one group per pair, with lr = base_lr *
/// lr_mult and weight_decay = weight_decay * decay_mult) to make the
/// updates Solver makes.
std::vector<ParameterGroup> group_by_multipliers(
    const std::vector<models::NamedParameter>& parameters);

/// Caffe's solvers, update for update. With G the gradients summed over
/// iter_size images: G is clipped (clip_gradients), then per parameter
///   g = G / iter_size + weight_decay * decay_mult * (w or sign(w) for L1)
///   lr = rate(iteration) * lr_mult
/// and, with histories h (and h2) starting at zero, mu = momentum:
///   SGD       h = mu h + lr g
///             w -= h
///   Nesterov  h' = mu h + lr g
///             w -= (1 + mu) h' - mu h
///   AdaGrad   h += g^2
///             w -= lr g / (sqrt(h) + delta)
///   RMSProp   h = rms_decay h + (1 - rms_decay) g^2
///             w -= lr g / (sqrt(h) + delta)
///   AdaDelta  h = mu h + (1 - mu) g^2
///             u = g sqrt((h2 + delta) / (h + delta))
///             h2 = mu h2 + (1 - mu) u^2
///             w -= lr u
///   Adam      h = mu h + (1 - mu) g
///             h2 = momentum2 h2 + (1 - momentum2) g^2
///             t = iteration + 1
///             w -= lr sqrt(1 - momentum2^t) / (1 - mu^t) h
///                  / (sqrt(h2) + delta)
class Solver {
 public:
  Solver(std::vector<models::NamedParameter> params, SolverOptions options);

  /// Applies one update with the rate of `iteration` from the accumulated
  /// gradients, then zeroes them. Returns the rate used.
  double step(int64_t iteration);
  /// Zeroes every gradient.
  void zero_grad();

  const SolverOptions& options() const {
    return options_;
  }
  const std::vector<models::NamedParameter>& params() const {
    return params_;
  }

  /// The solver's state by name, for snapshots: "history.<parameter>" (h
  /// above) and, for AdaDelta and Adam, "history2.<parameter>" (h2). These
  /// are the tensors the solver updates: filling them in place restores it.
  std::vector<std::pair<std::string, at::Tensor>> state() const;

 private:
  /// Scales every gradient by clip / norm when their global norm exceeds
  /// clip_gradients.
  void clip_gradients();
  /// Applies `type`'s update to parameter i, whose gradient g has been
  /// normalized and regularized.
  void update(size_t i, const at::Tensor& g, double lr, int64_t iteration);

  std::vector<models::NamedParameter> params_;
  SolverOptions options_;
  std::vector<at::Tensor> history_;
  std::vector<at::Tensor> history2_; ///< AdaDelta, Adam
};

} // namespace train
} // namespace fcnlab
