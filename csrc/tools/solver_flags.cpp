#include "solver_flags.h"

#include "commands.h"

#include <c10/util/Exception.h>

namespace fcnlab {
namespace tools {

void SolverFlags::add_to(CLI::App* command) {
  command->add_option(
      "--solver-file",
      file,
      "Caffe solver.prototxt (DIGITS' or FCN's): solver, lr schedule, "
      "momentum, decay, iter_size, max_iter, net, snapshot, test_interval, "
      "display, random_seed; the flags given override it");
  solver_option_ =
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
  const auto add = [&](CLI::Option* option,
                       std::function<void(train::SolverOptions&)> set) {
    setters_.emplace_back(option, std::move(set));
  };
  add(command->add_option("--momentum2", momentum2, "Adam's beta2")
          ->check(fraction_below_one()),
      [this](auto& o) { o.momentum2(momentum2); });
  add(command
          ->add_option("--rms-decay", rms_decay, "RMSProp's mean-square decay")
          ->check(fraction_below_one()),
      [this](auto& o) { o.rms_decay(rms_decay); });
  add(command
          ->add_option(
              "--delta",
              delta,
              "AdaGrad/RMSProp/AdaDelta/Adam denominator term")
          ->check(positive_number()),
      [this](auto& o) { o.delta(delta); });
  add(command->add_option("--weight-decay", weight_decay, "weight decay")
          ->check(non_negative_number()),
      [this](auto& o) { o.weight_decay(weight_decay); });
  add(command->add_option("--regularization", regularization, "L2 or L1")
          ->check(CLI::IsMember({"L1", "L2"}, CLI::ignore_case)),
      [this](auto& o) {
        o.regularization(train::parse_regularization(regularization));
      });
  add(command->add_option(
          "--clip-gradients",
          clip_gradients,
          "largest global L2 norm of the gradients (negative: off)"),
      [this](auto& o) { o.clip_gradients(clip_gradients); });
  add(command
          ->add_option(
              "--lr-policy",
              lr_policy,
              "fixed, step, multistep, poly, inv, exp or sigmoid")
          ->capture_default_str()
          ->check(CLI::IsMember(
              {"fixed", "step", "multistep", "poly", "inv", "exp", "sigmoid"})),
      [this](auto& o) { o.lr_policy(train::parse_lr_policy(lr_policy)); });
  add(command->add_option("--gamma", gamma, "lr policy factor (Caffe gamma)")
          ->check(positive_number()),
      [this](auto& o) { o.gamma(gamma); });
  add(command->add_option("--power", power, "poly/inv exponent")
          ->check(non_negative_number()),
      [this](auto& o) { o.power(power); });
  add(command
          ->add_option(
              "--step-size",
              step_size,
              "updates per lr step, or sigmoid's midpoint (default: 33% of "
              "training, 50% for sigmoid)")
          ->check(non_negative_number()),
      [this](auto& o) { o.step_size(step_size); });
  add(command
          ->add_option(
              "--iter-size",
              iter_size,
              "images whose gradients make one update")
          ->capture_default_str()
          ->check(positive_number()),
      [this](auto& o) { o.iter_size(iter_size); });
}

train::SolverOptions SolverFlags::options(
    bool normalized_loss,
    const train::SolverFile* solver_file) const {
  // Without a file every flag applies, given or not; with one, the given.
  const auto applies = [&](const CLI::Option* option) {
    return solver_file == nullptr || option->count() > 0;
  };
  auto options = solver_file ? solver_file->solver : train::SolverOptions();
  if (applies(solver_option_)) {
    options.type(train::parse_solver_type(solver));
  }
  if (solver_file == nullptr) {
    const auto defaults =
        train::solver_defaults(options.type(), normalized_loss);
    options.base_lr(defaults.base_lr).momentum(defaults.momentum);
  }
  if (lr_option_->count()) {
    options.base_lr(lr);
  }
  if (momentum_option_->count()) {
    options.momentum(momentum);
  }
  for (const auto& [option, set] : setters_) {
    if (applies(option)) {
      set(options);
    }
  }
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
