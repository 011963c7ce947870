#include <fcnlab/train/solver_file.h>

#include "../caffe/detail/text_format.h"
#include "detail/training_state.h"

#include <fcnlab/util/atomic_file.h>

#include <c10/util/Exception.h>

#include <filesystem>
#include <functional>
#include <map>

namespace fcnlab {
namespace train {
namespace {

namespace fs = std::filesystem;
using ::caffe::SolverParameter;

// Caffe's registered solver names, as `type` spells them.
const std::map<SolverType, std::string> kCaffeTypeNames = {
    {SolverType::kSgd, "SGD"},
    {SolverType::kNesterov, "Nesterov"},
    {SolverType::kAdaGrad, "AdaGrad"},
    {SolverType::kRmsProp, "RMSProp"},
    {SolverType::kAdaDelta, "AdaDelta"},
    {SolverType::kAdam, "Adam"},
};

const std::map<SolverParameter::SolverType, SolverType> kLegacyTypes = {
    {SolverParameter::SGD, SolverType::kSgd},
    {SolverParameter::NESTEROV, SolverType::kNesterov},
    {SolverParameter::ADAGRAD, SolverType::kAdaGrad},
    {SolverParameter::RMSPROP, SolverType::kRmsProp},
    {SolverParameter::ADADELTA, SolverType::kAdaDelta},
    {SolverParameter::ADAM, SolverType::kAdam},
};

// Fields that mean something to Caffe's process, not to the training.
bool does_not_apply(const std::string& field) {
  static const std::set<std::string> fields{
      "test_net",
      "train_state",
      "test_state",
      "test_iter",
      "test_compute_loss",
      "test_initialization",
      "average_loss",
      "snapshot_prefix",
      "snapshot_diff",
      "snapshot_format",
      "solver_mode",
      "device_id",
      "debug_info",
      "snapshot_after_train",
      "layer_wise_reduce",
  };
  return fields.count(field) > 0;
}

// Runs `read`, prefixing any error with the file's name.
void naming_the_file(
    const std::string& path,
    const std::function<void()>& read) {
  try {
    read();
  } catch (const c10::Error& error) {
    TORCH_CHECK(false, path, ": ", error.what_without_backtrace());
  }
}

std::string beside(const std::string& file, const std::string& relative) {
  const fs::path target(relative);
  if (target.is_absolute()) {
    return relative;
  }
  return (fs::path(file).parent_path() / target).lexically_normal().string();
}

SolverType solver_type(const SolverParameter& p) {
  TORCH_CHECK(
      !(p.has_type() && p.has_solver_type()),
      "sets both type and the legacy solver_type; Caffe refuses that too");
  if (p.has_solver_type()) {
    return kLegacyTypes.at(p.solver_type());
  }
  return parse_solver_type(p.type());
}

// The policy's parameters must be in the file: Caffe's are 0 when unset,
// which no schedule means.
void check_policy_fields(const SolverParameter& p, LrPolicy policy) {
  const std::string name = p.lr_policy();
  const bool gamma = policy == LrPolicy::kStep ||
      policy == LrPolicy::kMultiStep || policy == LrPolicy::kExp ||
      policy == LrPolicy::kInv || policy == LrPolicy::kSigmoid;
  TORCH_CHECK(!gamma || p.has_gamma(), "lr_policy ", name, " needs gamma");
  const bool power = policy == LrPolicy::kInv || policy == LrPolicy::kPoly;
  TORCH_CHECK(!power || p.has_power(), "lr_policy ", name, " needs power");
  const bool stepsize =
      policy == LrPolicy::kStep || policy == LrPolicy::kSigmoid;
  TORCH_CHECK(
      !stepsize || p.has_stepsize(), "lr_policy ", name, " needs stepsize");
}

SolverOptions solver_options(const SolverParameter& p) {
  TORCH_CHECK(p.has_base_lr(), "sets no base_lr");
  TORCH_CHECK(
      p.has_lr_policy(),
      "sets no lr_policy (fixed, step, multistep, poly, inv, exp or "
      "sigmoid)");
  const LrPolicy policy = parse_lr_policy(p.lr_policy());
  check_policy_fields(p, policy);
  SolverOptions options;
  options.type(solver_type(p))
      .base_lr(p.base_lr())
      .lr_policy(policy)
      .momentum(p.momentum())
      .momentum2(p.momentum2())
      .delta(p.delta())
      .rms_decay(p.rms_decay())
      .weight_decay(p.weight_decay())
      .regularization(parse_regularization(p.regularization_type()))
      .clip_gradients(p.clip_gradients())
      .iter_size(p.iter_size())
      .max_iter(p.max_iter());
  if (p.has_gamma()) {
    options.gamma(p.gamma());
  }
  if (p.has_power()) {
    options.power(p.power());
  }
  if (p.has_stepsize()) {
    options.step_size(p.stepsize());
  }
  options.step_values({p.stepvalue().begin(), p.stepvalue().end()});
  check_solver_options(options);
  return options;
}

} // namespace

SolverFile parse_solver_file(const std::string& text, const std::string& path) {
  SolverParameter p;
  caffe::detail::parse_text(text, path, p);
  SolverFile file;
  file.path = path;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  p.GetReflection()->ListFields(p, &fields);
  for (const auto* field : fields) {
    file.given.insert(field->name());
    if (does_not_apply(field->name())) {
      file.ignored.push_back(field->name());
    }
  }
  naming_the_file(path, [&] {
    TORCH_CHECK(
        !p.has_net_param() && !p.has_train_net_param() &&
            p.test_net_param_size() == 0,
        "holds its net inline (net_param); fcnlab reads the net from a file "
        "named by net or train_net");
    TORCH_CHECK(
        !(p.has_net() && p.has_train_net()),
        "names both net and train_net; Caffe takes one");
    TORCH_CHECK(
        p.weights_size() <= 1,
        "names ",
        p.weights_size(),
        " weights files; fcnlab starts from one (--weights)");
    file.solver = solver_options(p);
  });
  const std::string& net = p.has_net() ? p.net() : p.train_net();
  if (!net.empty()) {
    file.net = beside(path, net);
  }
  if (p.weights_size() == 1) {
    file.weights = beside(path, p.weights(0));
  }
  file.max_iter = p.max_iter();
  file.snapshot = p.snapshot();
  file.test_interval = p.test_interval();
  file.display = p.display();
  if (p.random_seed() >= 0) {
    file.random_seed = p.random_seed();
  }
  return file;
}

SolverFile read_solver_file(const std::string& path) {
  return parse_solver_file(util::read_file(path, "solver file"), path);
}

TrainerOptions with_solver_file(
    TrainerOptions options,
    const SolverFile& file,
    int64_t training_images,
    std::string* epochs_note) {
  options.solver(file.solver);
  if (file.max_iter > 0) {
    options.max_iter(file.max_iter);
  }
  if (file.display > 0) {
    options.log_every(file.display);
  }
  if (file.random_seed) {
    options.seed(static_cast<uint64_t>(*file.random_seed));
  }
  // Updates per epoch as the Trainer plans them, for one process.
  const int64_t per_epoch = std::max<int64_t>(
      1,
      detail::TrainingPlan(training_images, 1, file.solver.iter_size(), 1)
          .updates_per_epoch);
  // Enough epochs that "at the end only" holds for any length.
  constexpr int64_t kNever = int64_t{1} << 40;
  const auto epochs_of = [&](int64_t updates) {
    return updates <= 0
        ? kNever
        : std::max<int64_t>(1, (updates + per_epoch / 2) / per_epoch);
  };
  options.snapshot_every(epochs_of(file.snapshot));
  options.val_every(epochs_of(file.test_interval));
  if (epochs_note != nullptr) {
    const auto describe = [&](int64_t updates, int64_t epochs) {
      return updates <= 0 ? std::string("at the end")
                          : std::to_string(updates) + " updates -> every " +
              std::to_string(epochs) + " epochs";
    };
    *epochs_note = "snapshot " +
        describe(file.snapshot, options.snapshot_every()) + ", test_interval " +
        describe(file.test_interval, options.val_every()) + " (" +
        std::to_string(per_epoch) + " updates per epoch)";
  }
  return options;
}

std::string solver_prototxt(
    const SolverOptions& options,
    const SolverRun& run) {
  SolverParameter p;
  p.set_net(run.net);
  p.set_type(kCaffeTypeNames.at(options.type()));
  p.set_base_lr(static_cast<float>(options.base_lr()));
  p.set_lr_policy(to_string(options.lr_policy()));
  p.set_gamma(static_cast<float>(options.gamma()));
  p.set_power(static_cast<float>(options.power()));
  if (options.step_size() > 0) {
    p.set_stepsize(static_cast<int32_t>(options.step_size()));
  }
  for (const int64_t value : options.step_values()) {
    p.add_stepvalue(static_cast<int32_t>(value));
  }
  p.set_momentum(static_cast<float>(options.momentum()));
  p.set_momentum2(static_cast<float>(options.momentum2()));
  p.set_delta(static_cast<float>(options.delta()));
  p.set_rms_decay(static_cast<float>(options.rms_decay()));
  p.set_weight_decay(static_cast<float>(options.weight_decay()));
  p.set_regularization_type(
      options.regularization() == Regularization::kL1 ? "L1" : "L2");
  p.set_clip_gradients(static_cast<float>(options.clip_gradients()));
  p.set_iter_size(static_cast<int32_t>(options.iter_size()));
  p.set_max_iter(static_cast<int32_t>(run.max_iter));
  p.set_snapshot(static_cast<int32_t>(run.snapshot));
  p.set_test_interval(static_cast<int32_t>(run.test_interval));
  p.set_display(static_cast<int32_t>(run.display));
  if (run.random_seed) {
    p.set_random_seed(*run.random_seed);
  }
  std::string text;
  TORCH_CHECK(
      google::protobuf::TextFormat::PrintToString(p, &text),
      "cannot format a solver file");
  return text;
}

} // namespace train
} // namespace fcnlab
