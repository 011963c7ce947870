#include "solver_flags.h"

#include "commands.h"

#include <c10/util/Exception.h>

namespace fcnlab {
namespace tools {

void SolverFlags::add_to(CLI::App* command) {
  command
      ->add_option(
          "--solver",
          solver,
          "sgd, nesterov, adagrad, rmsprop, adadelta or adam")
      ->check(CLI::IsMember(
          {"sgd", "nesterov", "adagrad", "rmsprop", "adadelta", "adam"},
          CLI::ignore_case));
  lr_option_ =
      command
          ->add_option(
              "--lr",
              lr,
              "base learning rate (Caffe base_lr; FCN's 1e-10 instead of the "
              "default for a network whose loss is not normalized)")
          ->capture_default_str()
          ->check(positive_number());
  momentum_option_ =
      command
          ->add_option(
              "--momentum",
              momentum,
              "momentum; Adam's beta1, AdaDelta's decay (default 0.9, FCN's "
              "0.99 with an unnormalized loss, 0 for adagrad and rmsprop)")
          ->check(fraction_below_one());
  command->add_option("--momentum2", momentum2, "Adam's beta2")
      ->check(fraction_below_one());
  command->add_option("--rms-decay", rms_decay, "RMSProp's mean-square decay")
      ->check(fraction_below_one());
  command
      ->add_option(
          "--delta", delta, "AdaGrad/RMSProp/AdaDelta/Adam denominator term")
      ->check(positive_number());
  command->add_option("--weight-decay", weight_decay, "weight decay")
      ->check(non_negative_number());
  command->add_option("--regularization", regularization, "L2 or L1")
      ->check(CLI::IsMember({"L1", "L2"}, CLI::ignore_case));
  command->add_option(
      "--clip-gradients",
      clip_gradients,
      "largest global L2 norm of the gradients (negative: off)");
  command
      ->add_option(
          "--lr-policy",
          lr_policy,
          "fixed, step, multistep, poly, inv, exp or sigmoid")
      ->capture_default_str()
      ->check(CLI::IsMember(
          {"fixed", "step", "multistep", "poly", "inv", "exp", "sigmoid"}));
  command->add_option("--gamma", gamma, "lr policy factor (Caffe gamma)")
      ->check(positive_number());
  command->add_option("--power", power, "poly/inv exponent")
      ->check(non_negative_number());
  command
      ->add_option(
          "--step-size",
          step_size,
          "updates per lr step, or sigmoid's midpoint (default: 33% of "
          "training, 50% for sigmoid)")
      ->check(non_negative_number());
  command
      ->add_option(
          "--iter-size", iter_size, "images whose gradients make one update")
      ->capture_default_str()
      ->check(positive_number());
}

train::SolverOptions SolverFlags::options(bool normalized_loss) const {
  const auto type = train::parse_solver_type(solver);
  const auto defaults = train::solver_defaults(type, normalized_loss);
  const double base_lr = lr_option_->count() ? lr : defaults.base_lr;
  const double mu = momentum_option_->count() ? momentum : defaults.momentum;
  const auto options =
      train::SolverOptions()
          .type(type)
          .base_lr(base_lr)
          .momentum(mu)
          .momentum2(momentum2)
          .rms_decay(rms_decay)
          .delta(delta)
          .weight_decay(weight_decay)
          .regularization(train::parse_regularization(regularization))
          .clip_gradients(clip_gradients)
          .lr_policy(train::parse_lr_policy(lr_policy))
          .gamma(gamma)
          .power(power)
          .step_size(step_size)
          .iter_size(iter_size);
  try {
    train::check_solver_options(options);
  } catch (const c10::Error& error) {
    // The one combination the flags' own checks cannot see.
    throw CLI::ValidationError("--momentum", error.what_without_backtrace());
  }
  return options;
}

} // namespace tools
} // namespace fcnlab
