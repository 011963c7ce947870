#include <fcnlab/train/trainer.h>

#include "detail/checkpointer.h"
#include "detail/data_parallel.h"
#include "detail/meters.h"
#include "detail/mixed_precision.h"
#include "detail/run_files.h"
#include "detail/snapshot.h"
#include "detail/training_state.h"
#include "hooks/builtin_hooks.h"

#include <fcnlab/data/loader.h>
#include <fcnlab/util/device.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/utils.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>
#include <thread>

namespace fcnlab {
namespace train {
namespace {

using Clock = std::chrono::steady_clock;
using Hooks = std::vector<std::shared_ptr<TrainerHook>>;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The job to join: the options' or the environment's, when the options allow
// one and it has more than one rank.
std::optional<JobEnvironment> job_to_join(const TrainerOptions& options) {
  if (!options.join_job()) {
    return std::nullopt;
  }
  if (options.job()) {
    check_job(*options.job());
  }
  auto job = options.job() ? options.job() : job_from_environment();
  if (job && job->world_size == 1) {
    return std::nullopt;
  }
  return job;
}

// Everything that must agree between the ranks of a job, in words, so that
// a difference can be named.
std::string setup_text(
    const models::FcnNet& model,
    const data::SegmentationDataset& train_data,
    const data::SegmentationDataset* val_data,
    const TrainerOptions& options) {
  int64_t parameters = 0;
  for (const auto& parameter : model->parameters()) {
    parameters += parameter.numel();
  }
  const auto& solver = options.solver();
  std::ostringstream text;
  text << "training images " << train_data.size().value()
       << ", validation images " << (val_data ? val_data->size().value() : 0)
       << ", classes " << model->num_classes() << ", network "
       << model->spec().name << " with " << parameters << " parameters, "
       << options.epochs() << " epochs, max_iter " << options.max_iter()
       << ", seed " << options.seed() << ", solver " << to_string(solver.type())
       << " lr " << solver.base_lr() << " iter_size " << solver.iter_size();
  return text.str();
}

bool after_step(
    const Hooks& hooks,
    Trainer& trainer,
    const IterationInfo& info) {
  bool keep_going = true;
  for (const auto& hook : hooks) {
    keep_going = hook->after_step(trainer, info) && keep_going;
  }
  return keep_going;
}

bool after_epoch(const Hooks& hooks, Trainer& trainer, EpochInfo& info) {
  bool keep_going = true;
  for (const auto& hook : hooks) {
    keep_going = hook->after_epoch(trainer, info) && keep_going;
  }
  return keep_going;
}

} // namespace

class Trainer::Impl {
 public:
  Impl(
      models::FcnNet model,
      std::shared_ptr<data::SegmentationDataset> train_data,
      std::shared_ptr<data::SegmentationDataset> val_data,
      TrainerOptions options,
      std::vector<std::string> class_names);

  std::string train(Trainer& trainer);
  void resume(const std::string& snapshot_path);

  models::FcnNet model_;
  std::shared_ptr<data::SegmentationDataset> train_data_;
  std::shared_ptr<data::SegmentationDataset> val_data_;
  TrainerOptions options_;
  std::vector<std::string> class_names_;
  c10::Device device_{c10::kCPU};
  std::unique_ptr<detail::DataParallel> parallel_;
  std::unique_ptr<detail::TrainingPlan> plan_;
  std::unique_ptr<Solver> solver_;
  std::vector<at::Tensor> parameters_;
  std::unique_ptr<detail::MixedPrecision> precision_;
  detail::TrainingState state_;
  std::unique_ptr<detail::Checkpointer> checkpointer_;
  Hooks added_hooks_;
  std::atomic<bool> stop_requested_{false};

 private:
  /// The Trainer's own hooks from its options, then the added ones.
  Hooks hooks() const;
  data::LoaderOptions loader_options() const;
  /// One batch forward and backward, under autocast, with the loss scaled.
  detail::BatchStatistics forward_backward(const data::Batch& batch);
  IterationInfo iteration_info(
      const detail::UpdateMeter& update,
      double rate,
      Clock::time_point run_start,
      int64_t first_iteration) const;
  EpochInfo epoch_info(
      const detail::EpochMeter& meter,
      Clock::time_point epoch_start);
  bool stop_wanted() const {
    return callback_stop_ || stop_requested_.load();
  }
  /// A snapshot (unless the last one is current), then the hooks' end.
  std::string stop(const Hooks& hooks, Trainer& trainer);
  [[noreturn]] void throw_diverged(const detail::UpdateMeter& update) const;
  [[noreturn]] void throw_diverged_in_job(
      const detail::UpdateVote& vote,
      const detail::UpdateMeter& update,
      const std::string& snapshot) const;

  bool callback_stop_ = false; ///< a hook returned false
  bool resumed_ = false;
};

Trainer::Impl::Impl(
    models::FcnNet model,
    std::shared_ptr<data::SegmentationDataset> train_data,
    std::shared_ptr<data::SegmentationDataset> val_data,
    TrainerOptions options,
    std::vector<std::string> class_names)
    : model_(std::move(model)),
      train_data_(std::move(train_data)),
      val_data_(std::move(val_data)),
      options_(std::move(options)),
      class_names_(std::move(class_names)) {
  // Everything is checked before a job is joined or the model moves.
  TORCH_CHECK_VALUE(train_data_, "the trainer needs training data");
  TORCH_CHECK_VALUE(
      train_data_->size().value() > 0, "the training data is empty");
  TORCH_CHECK_VALUE(options_.epochs() >= 1, "epochs must be >= 1");
  TORCH_CHECK_VALUE(
      options_.max_iter() >= 0,
      "max_iter must be >= 0 (0: train for epochs), got ",
      options_.max_iter());
  TORCH_CHECK_VALUE(
      options_.snapshot_every() >= 1 && options_.val_every() >= 1 &&
          options_.log_every() >= 1,
      "snapshot_every, val_every and log_every must be >= 1");
  device_ = parse_device(options_.device());
  const auto precision =
      resolve_precision(options_.precision(), device_.type());
  data::check_augment_options(options_.augment());
  check_precision(precision, device_.type());
  check_solver_options(options_.solver());
  // Checked in every process, so that a wrong name fails before a job.
  const auto cuda_backend =
      choose_backend(options_.distributed_backend(), device_);

  at::set_num_threads(
      options_.threads() > 0 ? options_.threads()
                             : static_cast<int>(std::max(
                                   1u, std::thread::hardware_concurrency())));
  const auto job = job_to_join(options_);
  if (job && device_.is_cuda() && !device_.has_index()) {
    device_ = c10::Device(c10::kCUDA, static_cast<int8_t>(job->local_rank));
  }
  parallel_ = std::make_unique<detail::DataParallel>(
      job,
      std::chrono::milliseconds(
          std::llround(options_.distributed_timeout_seconds() * 1000)),
      cuda_backend);
  parallel_->check_setup(
      setup_text(model_, *train_data_, val_data_.get(), options_));
  model_->to(device_);

  plan_ = std::make_unique<detail::TrainingPlan>(
      static_cast<int64_t>(train_data_->size().value()),
      parallel_->world_size(),
      options_.solver().iter_size(),
      options_.epochs(),
      options_.max_iter());
  options_.solver(
      for_training_length(options_.solver(), plan_->total_updates()));
  solver_ =
      std::make_unique<Solver>(trainable_parameters(model_), options_.solver());
  parameters_ = model_->parameters();
  precision_ = std::make_unique<detail::MixedPrecision>(precision, device_);
  parallel_->track_gradients(parameters_, options_.overlap_communication());
  checkpointer_ = std::make_unique<detail::Checkpointer>(
      options_.output_dir(),
      parallel_->rank(),
      parallel_->world_size(),
      class_names_,
      model_,
      *solver_,
      *precision_,
      state_);
}

Hooks Trainer::Impl::hooks() const {
  Hooks hooks;
  if (val_data_) {
    hooks.push_back(detail::validation_hook(
        val_data_,
        options_.val_every(),
        plan_->epochs,
        precision_->precision(),
        *parallel_));
  }
  if (parallel_->rank() == 0) { // one process writes and prints
    hooks.push_back(detail::run_record(
        {options_.output_dir(),
         model_->spec().name,
         plan_->epochs,
         plan_->total_updates(),
         plan_->images_per_update(),
         class_names_}));
    hooks.push_back(detail::metrics_writer(
        options_.output_dir(), options_.log_every(), !resumed_));
    hooks.push_back(detail::curves_writer(options_.output_dir(), class_names_));
    if (options_.progress()) {
      hooks.push_back(detail::progress_printer(
          plan_->epochs,
          plan_->total_updates(),
          plan_->images_per_update(),
          options_.progress_seconds()));
    }
  }
  hooks.push_back(detail::periodic_checkpointer(
      *checkpointer_, options_.snapshot_every(), plan_->epochs));
  hooks.insert(hooks.end(), added_hooks_.begin(), added_hooks_.end());
  return hooks;
}

data::LoaderOptions Trainer::Impl::loader_options() const {
  const int64_t batch = options_.batch_equal_sizes() ? plan_->iter_size : 1;
  return data::LoaderOptions()
      .workers(options_.workers())
      .seed(options_.seed())
      .augment(options_.augment())
      .max_batch(batch)
      .group(batch)
      .shard_rank(parallel_->rank())
      .shard_count(parallel_->world_size())
      .pin_memory(device_.is_cuda());
}

std::string Trainer::Impl::train(Trainer& trainer) {
  checkpointer_->prepare();
  if (parallel_->rank() == 0) {
    detail::write_run_files(model_, options_, *plan_, val_data_ != nullptr);
  }
  parallel_->broadcast_parameters(model_);
  if (!resumed_) {
    torch::manual_seed(options_.seed());
  }
  const Hooks hooks = this->hooks();
  for (const auto& hook : hooks) {
    hook->before_train(trainer);
  }
  data::Loader loader(train_data_, loader_options());
  model_->train();
  stop_requested_.store(false);
  callback_stop_ = false;

  const auto run_start = Clock::now();
  const int64_t first_iteration = state_.iteration;
  const auto& plan = *plan_;
  while (state_.epoch < plan.epochs) {
    const auto epoch_start = Clock::now();
    loader.start_epoch(
        state_.epoch, static_cast<size_t>(state_.rank_samples_done));
    detail::EpochMeter epoch_meter;
    detail::UpdateMeter update;
    // A non-finite loss in a job keeps the weights from before the update,
    // so its snapshot must start the update again.
    int64_t update_start = state_.rank_samples_done;
    while (auto batch = loader.next()) {
      const auto images = static_cast<int64_t>(batch->indices.size());
      if (update.images() + images >= plan.iter_size ||
          state_.rank_samples_done + images >= plan.samples_per_rank) {
        parallel_->expect_last_backward(); // to overlap, as DDP does
      }
      const auto statistics = forward_backward(*batch);
      state_.rank_samples_done += images;
      if (std::isfinite(statistics.loss)) {
        update.add(statistics, images);
      } else {
        update.diverge(
            statistics.loss, train_data_->name(batch->indices.front()));
        if (!parallel_->in_job()) {
          solver_->zero_grad();
          throw_diverged(update);
        } // else the other ranks hear of it with this update's gradients
      }
      if (update.finite() && update.images() < plan.iter_size &&
          state_.rank_samples_done < plan.samples_per_rank) {
        continue;
      }
      const auto vote = parallel_->average_gradients(
          !update.finite(), stop_wanted(), state_.iteration + 1);
      if (!vote.diverged_ranks.empty()) {
        solver_->zero_grad();
        state_.rank_samples_done = update_start;
        throw_diverged_in_job(vote, update, checkpointer_->write());
      }
      const double rate =
          precision_->step(*solver_, parameters_, state_.iteration);
      ++state_.iteration;
      epoch_meter.add(update);
      const auto info =
          iteration_info(update, rate, run_start, first_iteration);
      callback_stop_ = !after_step(hooks, trainer, info) || callback_stop_;
      // A job stops when the vote says so, which every rank hears together.
      if (vote.stop || (!parallel_->in_job() && stop_wanted())) {
        return stop(hooks, trainer);
      }
      update = detail::UpdateMeter();
      update_start = state_.rank_samples_done;
      if (state_.iteration >= plan.total_updates()) {
        break; // max_iter reached within the epoch: every rank stops here
      }
    }
    ++state_.epoch;
    state_.rank_samples_done = 0;
    // Validation and snapshots see the same statistics on every rank.
    parallel_->share_statistics(model_);
    EpochInfo& info =
        state_.history.emplace_back(epoch_info(epoch_meter, epoch_start));
    callback_stop_ = !after_epoch(hooks, trainer, info) || callback_stop_;
    if (parallel_->any(stop_wanted(), "agreeing to stop")) {
      return stop(hooks, trainer);
    }
  }
  parallel_->finish(model_);
  for (const auto& hook : hooks) {
    hook->after_train(trainer, /*stopped=*/false);
  }
  return checkpointer_->last();
}

detail::BatchStatistics Trainer::Impl::forward_backward(
    const data::Batch& batch) {
  const auto images = batch.images.to(device_, /*non_blocking=*/true);
  const auto labels = batch.labels.to(device_, /*non_blocking=*/true);
  const auto& spec = model_->spec().loss;
  at::Tensor scores, loss;
  {
    const auto autocast = precision_->forward_context();
    scores = model_->forward(images);
    // A batch of several images sums their own losses: the gradient of
    // accumulating them one by one.
    loss = images.size(0) == 1 ? segmentation_loss(scores, labels, spec)
                               : image_losses(scores, labels, spec).sum();
  }
  // A non-finite loss makes non-finite gradients that no step applies.
  precision_->scale(loss).backward();
  return detail::read_batch_statistics(
      scores.detach(), labels, loss.detach(), spec);
}

IterationInfo Trainer::Impl::iteration_info(
    const detail::UpdateMeter& update,
    double rate,
    Clock::time_point run_start,
    int64_t first_iteration) const {
  IterationInfo info;
  info.epoch = state_.epoch + 1;
  info.iteration = state_.iteration;
  info.loss = update.loss();
  info.accuracy = update.accuracy();
  info.learning_rate = rate;
  info.images_per_second =
      double(
          (state_.iteration - first_iteration) * plan_->images_per_update()) /
      std::max(seconds_since(run_start), 1e-9);
  return info;
}

EpochInfo Trainer::Impl::epoch_info(
    const detail::EpochMeter& meter,
    Clock::time_point epoch_start) {
  EpochInfo info;
  info.epoch = state_.epoch;
  info.iteration = state_.iteration;
  info.learning_rate = learning_rate(
      solver_->options(), std::max<int64_t>(0, state_.iteration - 1));
  const auto sums =
      parallel_->sum(meter.sums(), "summing the epoch's training metrics");
  info.train_loss = detail::EpochMeter::loss(sums);
  info.train_accuracy = detail::EpochMeter::accuracy(sums);
  info.val_loss = info.val_pixel_accuracy = info.val_mean_accuracy =
      info.val_mean_iu = info.val_frequency_weighted_iu =
          std::numeric_limits<double>::quiet_NaN();
  info.seconds = seconds_since(epoch_start);
  return info;
}

std::string Trainer::Impl::stop(const Hooks& hooks, Trainer& trainer) {
  const std::string snapshot = checkpointer_->write_unless_current();
  for (const auto& hook : hooks) {
    hook->after_train(trainer, /*stopped=*/true);
  }
  return snapshot;
}

void Trainer::Impl::throw_diverged(const detail::UpdateMeter& update) const {
  const double loss = update.diverged_loss();
  const auto& last = checkpointer_->last();
  TORCH_CHECK(
      false,
      "training diverged: the loss is ",
      // NaN's sign bit depends on the kernels that made it.
      std::isnan(loss) ? "nan" : std::to_string(loss),
      " at iteration ",
      state_.iteration + 1,
      " (epoch ",
      state_.epoch + 1,
      ", image ",
      update.diverged_image(),
      "); the last good snapshot is ",
      last.empty() ? "(none yet)" : last,
      ". Lower the learning rate.");
}

void Trainer::Impl::throw_diverged_in_job(
    const detail::UpdateVote& vote,
    const detail::UpdateMeter& update,
    const std::string& snapshot) const {
  std::string ranks;
  for (const auto rank : vote.diverged_ranks) {
    ranks += (ranks.empty() ? "" : ", ") + std::to_string(rank);
  }
  TORCH_CHECK(
      false,
      "training diverged: the loss is not finite on rank ",
      ranks,
      " at iteration ",
      state_.iteration + 1,
      " (epoch ",
      state_.epoch + 1,
      update.finite() ? "" : ", image " + update.diverged_image(),
      "); every rank stopped; the weights before that update are in ",
      snapshot,
      ". Lower the learning rate.");
}

void Trainer::Impl::resume(const std::string& snapshot_path) {
  auto snapshot = detail::read_snapshot(snapshot_path);
  precision_->load_state(detail::restore_snapshot(snapshot, model_, *solver_));
  state_.epoch = snapshot.position.epoch;
  state_.rank_samples_done =
      snapshot.position.epoch_images_done / parallel_->world_size();
  state_.iteration = snapshot.position.iteration;
  state_.history = std::move(snapshot.position.history);
  resumed_ = true;
  checkpointer_->resumed_from(snapshot_path);
}

Trainer::Trainer(
    models::FcnNet model,
    std::shared_ptr<data::SegmentationDataset> train_data,
    std::shared_ptr<data::SegmentationDataset> val_data,
    TrainerOptions options,
    std::vector<std::string> class_names)
    : impl_(std::make_unique<Impl>(
          std::move(model),
          std::move(train_data),
          std::move(val_data),
          std::move(options),
          std::move(class_names))) {}

Trainer::~Trainer() = default;

void Trainer::add_hook(std::shared_ptr<TrainerHook> hook) {
  TORCH_CHECK_VALUE(hook, "add_hook: the hook is null");
  impl_->added_hooks_.push_back(std::move(hook));
}

void Trainer::on_iteration(IterationCallback callback) {
  add_hook(std::make_shared<CallbackHook>(std::move(callback), nullptr));
}

void Trainer::on_epoch(EpochCallback callback) {
  add_hook(std::make_shared<CallbackHook>(nullptr, std::move(callback)));
}

void Trainer::resume(const std::string& snapshot_path) {
  impl_->resume(snapshot_path);
}

std::string Trainer::train() {
  try {
    return impl_->train(*this);
  } catch (const std::exception& error) {
    if (rank() == 0) {
      detail::record_run_failure(impl_->options_.output_dir(), error.what());
    }
    throw;
  }
}

void Trainer::request_stop() {
  impl_->stop_requested_.store(true);
}

const std::vector<EpochInfo>& Trainer::history() const {
  return impl_->state_.history;
}

int64_t Trainer::iteration() const {
  return impl_->state_.iteration;
}

models::FcnNet Trainer::model() const {
  return impl_->model_;
}

const TrainerOptions& Trainer::options() const {
  return impl_->options_;
}

int64_t Trainer::rank() const {
  return impl_->parallel_->rank();
}

int64_t Trainer::world_size() const {
  return impl_->parallel_->world_size();
}

std::string Trainer::gradient_backend() const {
  return impl_->parallel_->backend_for(impl_->device_);
}

double Trainer::communication_seconds() const {
  return impl_->parallel_->communication_seconds();
}

} // namespace train
} // namespace fcnlab
