#include <fcnlab/train/trainer.h>

#include "detail/curves.h"
#include "detail/grad_scaler.h"
#include "detail/gradient_buckets.h"
#include "detail/snapshot.h"

#include <fcnlab/data/loader.h>
#include <fcnlab/models/model_io.h>
#include <fcnlab/train/distributed.h>
#include <fcnlab/util/atomic_file.h>
#include <fcnlab/util/device.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace fcnlab {
namespace train {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kSnapshotsKept = 2;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string csv_number(double value) {
  if (!std::isfinite(value)) {
    return "";
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", value);
  return text;
}

void append_line(const fs::path& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  out << line << "\n";
  TORCH_CHECK(out.good(), "cannot append to ", path.string());
}

std::string duration_text(double seconds) {
  const auto total = static_cast<long long>(std::max(0.0, seconds));
  char text[32];
  if (total >= 3600) {
    std::snprintf(
        text, sizeof(text), "%lldh%02lldm", total / 3600, (total / 60) % 60);
  } else {
    std::snprintf(text, sizeof(text), "%lldm%02llds", total / 60, total % 60);
  }
  return text;
}

// The first rank whose text differs from rank 0's; 0 when all agree.
size_t first_rank_unlike_rank_0(const std::vector<std::string>& texts) {
  for (size_t r = 1; r < texts.size(); ++r) {
    if (texts[r] != texts[0]) {
      return r;
    }
  }
  return 0;
}

// A batch's loss, its correctly labelled pixels and its counted pixels,
// read from the device together.
std::array<double, 3> batch_statistics(
    const at::Tensor& scores,
    const at::Tensor& labels,
    const at::Tensor& loss,
    const models::LossSpec& spec) {
  const auto valid = labels != spec.ignore_label;
  const auto values =
      at::stack({loss.to(at::kDouble),
                 ((scores.argmax(1) == labels) & valid).sum().to(at::kDouble),
                 valid.sum().to(at::kDouble)})
          .to(at::kCPU);
  const auto* value = values.data_ptr<double>();
  return {value[0], value[1], value[2]};
}

} // namespace

at::Tensor segmentation_loss(
    const at::Tensor& scores,
    const at::Tensor& labels,
    const models::LossSpec& loss) {
  if (scores.scalar_type() != at::kFloat) {
    // Mixed precision: the softmax and its sums want float32.
    return segmentation_loss(scores.to(at::kFloat), labels, loss);
  }
  const auto summed = at::cross_entropy_loss(
      scores,
      labels,
      /*weight=*/{},
      at::Reduction::Sum,
      /*ignore_index=*/loss.ignore_label);
  if (loss.normalize) {
    // The mean over the counted pixels, without reading their number on the
    // host (a wait for the device on a GPU); 0 when none counts.
    const auto counted = (labels != loss.ignore_label).sum();
    return summed / counted.clamp_min(1).to(summed.scalar_type());
  }
  return summed / static_cast<double>(scores.size(0));
}

at::Tensor image_losses(
    const at::Tensor& scores,
    const at::Tensor& labels,
    const models::LossSpec& loss) {
  if (scores.scalar_type() != at::kFloat) {
    return image_losses(scores.to(at::kFloat), labels, loss);
  }
  const auto per_pixel = at::cross_entropy_loss(
      scores,
      labels,
      /*weight=*/{},
      at::Reduction::None,
      /*ignore_index=*/loss.ignore_label);
  const auto sums = per_pixel.flatten(1).sum(1);
  if (!loss.normalize) {
    return sums;
  }
  // An image without a pixel to learn from adds zero, as in batch 1.
  const auto counted = (labels != loss.ignore_label).flatten(1).sum(1);
  return sums / counted.clamp_min(1).to(sums.scalar_type());
}

Trainer::Trainer(
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
  TORCH_CHECK_VALUE(train_data_, "the trainer needs training data");
  TORCH_CHECK_VALUE(
      train_data_->size().value() > 0, "the training data is empty");
  TORCH_CHECK_VALUE(options_.epochs() >= 1, "epochs must be >= 1");
  TORCH_CHECK_VALUE(
      options_.snapshot_every() >= 1 && options_.val_every() >= 1 &&
          options_.log_every() >= 1,
      "snapshot_every, val_every and log_every must be >= 1");
  const int threads = options_.threads() > 0
      ? options_.threads()
      : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  device_ = parse_device(options_.device());
  precision_ = parse_precision(options_.amp());
  data::check_augment_options(options_.augment());
  check_precision(precision_, device_.type());
  // Checked in every process, so that a wrong name fails before a job.
  join_job(choose_backend(options_.distributed_backend(), device_));
  model_->to(device_);
  if (precision_ == Precision::kFloat16) {
    scaler_ = std::make_unique<detail::GradScaler>(device_);
  }

  auto solver = options_.solver();
  // Each rank's share of an epoch (its shard, padded to equal counts).
  const auto samples =
      (static_cast<int64_t>(train_data_->size().value()) + world_size() - 1) /
      world_size();
  const int64_t updates_per_epoch =
      (samples + solver.iter_size() - 1) / solver.iter_size();
  const int64_t total_updates = updates_per_epoch * options_.epochs();
  if (solver.step_size() <= 0) {
    // DIGITS' defaults: a step every 33% of training, sigmoid's midpoint at
    // 50%.
    const double share = solver.lr_policy() == LrPolicy::kSigmoid ? 0.5 : 0.33;
    solver.step_size(std::max<int64_t>(1, std::llround(total_updates * share)));
  }
  if (solver.max_iter() <= 0) {
    solver.max_iter(total_updates);
  }
  options_.solver(solver);
  solver_ = std::make_unique<Solver>(param_specs(model_), solver);
  if (communicator_) {
    buckets_ = std::make_unique<detail::GradientBuckets>(
        model_->parameters(), communicator_);
  }
}

Trainer::~Trainer() = default;

int64_t Trainer::rank() const {
  return communicator_ ? communicator_->rank() : 0;
}

int64_t Trainer::world_size() const {
  return communicator_ ? communicator_->world_size() : 1;
}

std::string Trainer::gradient_backend() const {
  return communicator_ ? communicator_->backend_for(device_) : "";
}

bool Trainer::writes_files() const {
  return rank() == 0;
}

void Trainer::join_job(CudaBackend cuda_backend) {
  if (!options_.distributed()) {
    return;
  }
  const auto job = options_.job() ? options_.job() : job_from_environment();
  if (!job || job->world_size == 1) {
    return;
  }
  if (device_.is_cuda() && !device_.has_index()) {
    device_ = c10::Device(c10::kCUDA, static_cast<int8_t>(job->local_rank));
  }
  communicator_ = Communicator::connect(
      *job,
      std::chrono::milliseconds(
          std::llround(options_.distributed_timeout_seconds() * 1000)),
      cuda_backend);
  // Everything that must agree between ranks, in words, so that a
  // difference can be named.
  int64_t parameters = 0;
  for (const auto& parameter : model_->parameters()) {
    parameters += parameter.numel();
  }
  const auto& solver = options_.solver();
  std::ostringstream text;
  text << "training images " << train_data_->size().value()
       << ", validation images " << (val_data_ ? val_data_->size().value() : 0)
       << ", classes " << model_->num_classes() << ", network "
       << model_->spec().name << " with " << parameters << " parameters, "
       << options_.epochs() << " epochs, seed " << options_.seed()
       << ", solver " << to_string(solver.type()) << " lr " << solver.base_lr()
       << " iter_size " << solver.iter_size();
  const auto texts =
      communicator_->all_gather_text(text.str(), "comparing the ranks' setup");
  const size_t other = first_rank_unlike_rank_0(texts);
  TORCH_CHECK(
      other == 0,
      "the ranks of the job disagree: rank 0 has ",
      texts[0],
      "; rank ",
      other,
      " has ",
      texts[other]);
}

void Trainer::synchronize_parameters() {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> tensors;
  for (const auto& parameter : model_->parameters()) {
    tensors.push_back(parameter);
  }
  for (const auto& buffer : model_->buffers()) {
    tensors.push_back(buffer);
  }
  communicator_->broadcast(tensors, 0, "sharing rank 0's parameters");
  check_parameters_agree("after the broadcast");
}

void Trainer::check_parameters_agree(const std::string& when) {
  torch::NoGradGuard no_grad;
  // The same bits everywhere: sums of every tensor, compared as text.
  std::ostringstream sums;
  sums.precision(17);
  for (const auto& parameter : model_->parameters()) {
    sums << parameter.to(at::kDouble).sum().item<double>() << " ";
  }
  const auto texts = communicator_->all_gather_text(
      sums.str(), "comparing the ranks' parameters");
  const size_t other = first_rank_unlike_rank_0(texts);
  TORCH_CHECK(
      other == 0, "rank ", other, "'s parameters differ from rank 0's ", when);
}

std::vector<double> Trainer::sum_over_ranks(
    std::vector<double> values,
    const std::string& what) {
  if (!communicator_) {
    return values;
  }
  auto tensor = at::tensor(values, at::kDouble);
  std::vector<at::Tensor> tensors{tensor};
  communicator_->all_reduce_sum(tensors, what);
  return std::vector<double>(
      tensor.data_ptr<double>(), tensor.data_ptr<double>() + tensor.numel());
}

Evaluation Trainer::validate() {
  int64_t count = 0;
  auto evaluation = evaluate_strided(
      model_,
      *val_data_,
      precision_,
      static_cast<size_t>(rank()),
      static_cast<size_t>(world_size()),
      count);
  const auto sums =
      sum_over_ranks({evaluation.loss, double(count)}, "summing validation");
  if (communicator_) {
    std::vector<at::Tensor> counts{evaluation.confusion.counts()};
    communicator_->all_reduce_sum(counts, "summing confusion matrices");
  }
  evaluation.loss = sums[1] > 0 ? sums[0] / sums[1] : kNaN;
  return evaluation;
}

void Trainer::on_iteration(IterationCallback callback) {
  iteration_callbacks_.push_back(std::move(callback));
}

void Trainer::on_epoch(EpochCallback callback) {
  epoch_callbacks_.push_back(std::move(callback));
}

std::string Trainer::snapshot() {
  const fs::path dir = options_.output_dir();
  const std::string path =
      (dir / ("snapshot_iter_" + std::to_string(iteration_) + ".pt")).string();
  last_snapshot_ = path;
  if (!writes_files()) {
    return path;
  }
  fs::create_directories(dir);
  // The position counts the images of the whole job, so that a run with
  // another number of ranks resumes at the same place.
  detail::write_snapshot(
      path,
      model_,
      *solver_,
      {epoch_,
       position_ * world_size(),
       iteration_,
       model_->num_classes(),
       history_},
      scaler_ ? scaler_->state() : fcnlab::detail::NamedTensors{});
  models::save_model(model_, (dir / "model.pt").string(), class_names_);
  // Snapshots hold weights and momentum (~450 MiB): keep the newest few.
  std::vector<fs::path> snapshots;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("snapshot_iter_", 0) == 0 &&
        entry.path().extension() == ".pt") {
      snapshots.push_back(entry.path());
    }
  }
  std::sort(
      snapshots.begin(),
      snapshots.end(),
      [](const fs::path& a, const fs::path& b) {
        return fs::last_write_time(a) > fs::last_write_time(b);
      });
  for (size_t i = kSnapshotsKept; i < snapshots.size(); ++i) {
    fs::remove(snapshots[i]);
  }
  return path;
}

bool Trainer::unscale_gradients() {
  std::vector<at::Tensor> grads;
  for (const auto& parameter : model_->parameters()) {
    grads.push_back(parameter.grad());
  }
  return scaler_->unscale(grads);
}

void Trainer::resume(const std::string& snapshot_path) {
  auto snapshot = detail::read_snapshot(snapshot_path);
  const auto scaler = detail::restore_snapshot(snapshot, model_, *solver_);
  if (scaler_) { // a run of another precision starts at the initial scale
    for (const auto& [name, live] : scaler_->state()) {
      for (const auto& [stored_name, stored] : scaler) {
        if (stored_name == name && stored.sizes() == live.sizes()) {
          live.copy_(stored);
        }
      }
    }
  }
  epoch_ = snapshot.position.epoch;
  position_ = snapshot.position.position / world_size();
  iteration_ = snapshot.position.iteration;
  history_ = std::move(snapshot.position.history);
  resumed_ = true;
  last_snapshot_ = snapshot_path;
}

void Trainer::log_iteration(const IterationInfo& info) {
  const fs::path dir = options_.output_dir();
  const nlohmann::json line = {
      {"type", "iteration"},
      {"epoch", info.epoch},
      {"iteration", info.iteration},
      {"loss", info.loss},
      {"accuracy", info.accuracy},
      {"lr", info.learning_rate},
      {"images_per_second", info.images_per_second}};
  append_line(dir / "metrics.jsonl", line.dump());
  append_line(
      dir / "iterations.csv",
      std::to_string(info.iteration) + "," + std::to_string(info.epoch) + "," +
          csv_number(info.loss) + "," + csv_number(info.accuracy) + "," +
          csv_number(info.learning_rate));
}

void Trainer::log_epoch(const EpochInfo& e) {
  const fs::path dir = options_.output_dir();
  auto line = detail::epoch_to_json(e);
  line["type"] = "epoch";
  append_line(dir / "metrics.jsonl", line.dump());
  append_line(
      dir / "epochs.csv",
      std::to_string(e.epoch) + "," + std::to_string(e.iteration) + "," +
          csv_number(e.learning_rate) + "," + csv_number(e.train_loss) + "," +
          csv_number(e.train_accuracy) + "," + csv_number(e.val_loss) + "," +
          csv_number(e.val_pixel_accuracy) + "," +
          csv_number(e.val_mean_accuracy) + "," + csv_number(e.val_mean_iu) +
          "," + csv_number(e.val_frequency_weighted_iu) + "," +
          csv_number(e.seconds));
  detail::write_curves_png(
      history_, class_names_, (dir / "curves.png").string());
}

Evaluation evaluate(
    models::FcnNet model,
    data::SegmentationDataset& dataset,
    Precision precision) {
  int64_t count = 0;
  auto result = evaluate_strided(model, dataset, precision, 0, 1, count);
  result.loss = count ? result.loss / double(count) : kNaN;
  return result;
}

Evaluation evaluate_strided(
    models::FcnNet model,
    data::SegmentationDataset& dataset,
    Precision precision,
    size_t first,
    size_t stride,
    int64_t& count) {
  TORCH_CHECK_VALUE(stride >= 1, "evaluation stride must be >= 1");
  const bool was_training = model->is_training();
  model->eval();
  torch::NoGradGuard no_grad;
  const auto device = model->device();
  const Autocast autocast(device.type(), precision);
  Evaluation result{0, ConfusionMatrix(model->num_classes())};
  count = 0;
  for (size_t i = first; i < dataset.size().value(); i += stride, ++count) {
    const auto example = dataset.get(i);
    const auto scores = model->forward(example.data.unsqueeze(0).to(device));
    const auto labels = example.target.unsqueeze(0).to(device);
    result.loss +=
        segmentation_loss(scores, labels, model->spec().loss).item<double>();
    result.confusion.update(scores.argmax(1), labels);
  }
  model->train(was_training);
  return result;
}

std::string Trainer::train() {
  const fs::path dir = options_.output_dir();
  const bool writer = writes_files();
  if (writer) {
    fs::create_directories(dir);
    // A run killed while writing (kill -9, a crash) leaves its temporary
    // snapshot or model file behind; hundreds of MB each.
    for (const auto& name : util::remove_stale_temporaries(dir.string())) {
      std::cerr << "removed " << (dir / name).string()
                << ", left unfinished by an interrupted run\n";
    }
  }
  if (communicator_) {
    synchronize_parameters();
  }
  if (!resumed_) {
    torch::manual_seed(options_.seed());
  }
  if (!resumed_ && writer) {
    for (const char* log : {"metrics.jsonl", "iterations.csv", "epochs.csv"}) {
      std::ofstream(dir / log, std::ios::trunc);
    }
    append_line(dir / "iterations.csv", "iteration,epoch,loss,accuracy,lr");
    append_line(
        dir / "epochs.csv",
        "epoch,iteration,lr,train_loss,train_accuracy,val_loss,val_pixel_accuracy,"
        "val_mean_accuracy,val_mean_iu,val_fw_iu,seconds");
  }
  const int64_t iter_size = options_.solver().iter_size();
  data::Loader loader(
      train_data_,
      data::LoaderOptions()
          .workers(options_.workers())
          .seed(options_.seed())
          .augment(options_.augment())
          .max_batch(options_.batch_equal_sizes() ? iter_size : 1)
          .group(options_.batch_equal_sizes() ? iter_size : 1)
          .shard_rank(rank())
          .shard_count(world_size())
          .pin_memory(device_.is_cuda()));
  const auto samples = static_cast<int64_t>(loader.size());
  const int64_t updates_per_epoch = (samples + iter_size - 1) / iter_size;
  const int64_t total_updates = updates_per_epoch * options_.epochs();
  model_->train();
  stop_requested_.store(false);

  const auto run_start = Clock::now();
  const int64_t first_iteration = iteration_;
  // A terminal gets one line rewritten twice a second; logs, CI and
  // notebooks a plain line every progress_seconds.
  const bool terminal = ::isatty(::fileno(stderr)) != 0;
  const double progress_interval = terminal ? 0.5 : options_.progress_seconds();
  const bool show_progress = options_.progress() && writer;
  // Summed over the ranks with each update's gradients: [0] a stop asked
  // for, [1 + r] rank r's loss was not finite.
  auto flags = at::zeros({1 + world_size()}, at::kFloat);
  bool stop_after_update = false;
  std::string diverged_at;
  double last_print = -1e300;
  while (epoch_ < options_.epochs()) {
    const int64_t epoch_number = epoch_ + 1;
    const auto epoch_start = Clock::now();
    loader.start_epoch(epoch_, static_cast<size_t>(position_));
    double epoch_loss = 0;
    int64_t epoch_correct = 0, epoch_counted = 0, epoch_images = 0;
    double update_loss = 0;
    int64_t update_correct = 0, update_counted = 0, in_update = 0;
    // Where the current update began: a stop for a non-finite loss keeps
    // the weights before the update, so its snapshot must start it again.
    int64_t update_start = position_;
    while (auto batch = loader.next()) {
      const auto images = batch->images.to(device_, /*non_blocking=*/true);
      const auto labels = batch->labels.to(device_, /*non_blocking=*/true);
      at::Tensor scores, loss;
      {
        const Autocast autocast(device_.type(), precision_);
        scores = model_->forward(images);
        // A batch of several images sums their own losses: the gradient of
        // accumulating them one by one.
        loss = images.size(0) == 1
            ? segmentation_loss(scores, labels, model_->spec().loss)
            : image_losses(scores, labels, model_->spec().loss).sum();
      }
      const auto batch_images = static_cast<int64_t>(batch->indices.size());
      if (buckets_ && options_.overlap_communication() &&
          (in_update + batch_images >= iter_size ||
           position_ + batch_images >= samples)) {
        buckets_->arm(); // this backward ends the update
      }
      // A non-finite loss makes non-finite gradients that no step applies.
      (scaler_ ? scaler_->scale(loss) : loss).backward();
      // The batch's one read of the device, after backward has queued its
      // work: reading the loss earlier would make a GPU idle between the
      // passes.
      const auto statistics = batch_statistics(
          scores.detach(), labels, loss.detach(), model_->spec().loss);
      const double loss_value = statistics[0];
      if (!std::isfinite(loss_value)) {
        if (communicator_) {
          // The other ranks learn of it with this update's gradients; skip
          // to that point.
          flags[1 + rank()] = 1;
          diverged_at = train_data_->name(batch->indices.front());
          position_ += batch_images;
          in_update = iter_size;
        } else {
          solver_->zero_grad();
          TORCH_CHECK(
              false,
              "training diverged: the loss is ",
              // NaN's sign bit depends on the kernels that made it.
              std::isnan(loss_value) ? "nan" : std::to_string(loss_value),
              " at iteration ",
              iteration_ + 1,
              " (epoch ",
              epoch_number,
              ", image ",
              train_data_->name(batch->indices.front()),
              "); the last good snapshot is ",
              last_snapshot_.empty() ? "(none yet)" : last_snapshot_,
              ". Lower the learning rate.");
        }
      }
      if (diverged_at.empty()) {
        update_correct += static_cast<int64_t>(statistics[1]);
        update_counted += static_cast<int64_t>(statistics[2]);
        update_loss += loss_value;
        epoch_loss += loss_value;
        epoch_images += batch_images;
        position_ += batch_images;
        in_update += batch_images;
      }
      if (in_update < iter_size && position_ < samples) {
        continue;
      }
      if (communicator_) {
        flags[0] = stop_after_update || stop_requested_.load() ? 1 : 0;
        const auto sync_start = Clock::now();
        buckets_->average(
            flags,
            "averaging the gradients of iteration " +
                std::to_string(iteration_ + 1));
        communication_seconds_ +=
            std::chrono::duration<double>(Clock::now() - sync_start).count();
        std::string ranks;
        for (int64_t r = 0; r < world_size(); ++r) {
          if (flags[1 + r].item<float>() > 0) {
            ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
          }
        }
        if (!ranks.empty()) {
          solver_->zero_grad();
          position_ = update_start;
          const std::string kept = snapshot();
          TORCH_CHECK(
              false,
              "training diverged: the loss is not finite on rank ",
              ranks,
              " at iteration ",
              iteration_ + 1,
              " (epoch ",
              epoch_number,
              diverged_at.empty() ? "" : ", image " + diverged_at,
              "); every rank stopped; the weights before that update are in ",
              kept,
              ". Lower the learning rate.");
        }
        stop_after_update = flags[0].item<float>() > 0;
        flags.zero_();
      }
      double rate = 0;
      if (scaler_ && !unscale_gradients()) {
        solver_->zero_grad(); // an overflow: skipped, the scale backs off
        rate = learning_rate(options_.solver(), iteration_);
      } else {
        rate = solver_->step(iteration_);
      }
      if (scaler_) {
        scaler_->update();
      }
      ++iteration_;
      const double elapsed =
          std::chrono::duration<double>(Clock::now() - run_start).count();
      IterationInfo info;
      info.epoch = epoch_number;
      info.iteration = iteration_;
      info.loss = update_loss / double(in_update);
      info.accuracy =
          update_counted ? double(update_correct) / update_counted : kNaN;
      info.learning_rate = rate;
      info.images_per_second =
          double((iteration_ - first_iteration) * iter_size * world_size()) /
          std::max(elapsed, 1e-9);
      epoch_correct += update_correct;
      epoch_counted += update_counted;
      update_loss = 0;
      update_correct = update_counted = in_update = 0;
      update_start = position_;

      if (writer && iteration_ % options_.log_every() == 0) {
        log_iteration(info);
      }
      if (show_progress &&
          (elapsed - last_print >= progress_interval ||
           iteration_ == total_updates)) {
        last_print = elapsed;
        const double remaining = double(total_updates - iteration_) *
            iter_size * world_size() / std::max(info.images_per_second, 1e-9);
        std::fprintf(
            stderr,
            "%strain: epoch %lld/%lld  iter %lld/%lld  loss %.4f  acc %.3f  "
            "lr %.2e  %.2f img/s  ETA %s%s",
            terminal ? "\r" : "",
            static_cast<long long>(epoch_number),
            static_cast<long long>(options_.epochs()),
            static_cast<long long>(iteration_),
            static_cast<long long>(total_updates),
            info.loss,
            info.accuracy,
            rate,
            info.images_per_second,
            duration_text(remaining).c_str(),
            terminal ? "   " : "\n");
      }
      bool keep_going = true;
      for (const auto& callback : iteration_callbacks_) {
        keep_going = callback(info) && keep_going;
      }
      if (communicator_) {
        // Every rank stops together, after the next update's
        // synchronisation has told them all.
        const bool stop_now = stop_after_update;
        stop_after_update = !keep_going;
        keep_going = !stop_now;
      }
      if (!keep_going || (!communicator_ && stop_requested_.load())) {
        if (show_progress) {
          std::fprintf(
              stderr,
              "%strain: stopped at iteration %lld\n",
              terminal ? "\n" : "",
              static_cast<long long>(iteration_));
        }
        return snapshot();
      }
    }
    ++epoch_;
    position_ = 0;

    EpochInfo info;
    info.epoch = epoch_number;
    info.iteration = iteration_;
    info.learning_rate =
        learning_rate(options_.solver(), std::max<int64_t>(0, iteration_ - 1));
    const auto sums = sum_over_ranks(
        {epoch_loss,
         double(epoch_images),
         double(epoch_correct),
         double(epoch_counted)},
        "summing the epoch's training metrics");
    info.train_loss = sums[1] > 0 ? sums[0] / sums[1] : kNaN;
    info.train_accuracy = sums[3] > 0 ? sums[2] / sums[3] : kNaN;
    info.val_loss = info.val_pixel_accuracy = info.val_mean_accuracy = kNaN;
    info.val_mean_iu = info.val_frequency_weighted_iu = kNaN;
    const bool last = epoch_ == options_.epochs();
    if (val_data_ && (epoch_ % options_.val_every() == 0 || last)) {
      const auto evaluation = validate();
      info.val_loss = evaluation.loss;
      info.val_pixel_accuracy = evaluation.confusion.pixel_accuracy();
      info.val_mean_accuracy = evaluation.confusion.mean_accuracy();
      info.val_mean_iu = evaluation.confusion.mean_iu();
      info.val_frequency_weighted_iu =
          evaluation.confusion.frequency_weighted_iu();
      info.val_class_iu = evaluation.confusion.class_iu();
    }
    info.seconds =
        std::chrono::duration<double>(Clock::now() - epoch_start).count();
    history_.push_back(info);
    if (writer) {
      log_epoch(info);
    }
    if (show_progress) {
      std::fprintf(
          stderr,
          "%sepoch %lld: train loss %.4f acc %.3f | val loss %.4f acc %.3f mean IU %.3f "
          "(%.1fs)\n",
          terminal ? "\n" : "",
          static_cast<long long>(info.epoch),
          info.train_loss,
          info.train_accuracy,
          info.val_loss,
          info.val_pixel_accuracy,
          info.val_mean_iu,
          info.seconds);
    }
    const bool snapshotted = epoch_ % options_.snapshot_every() == 0 || last;
    if (snapshotted) {
      snapshot();
    }
    bool keep_going = true;
    for (const auto& callback : epoch_callbacks_) {
      keep_going = callback(info) && keep_going;
    }
    bool stop = !keep_going || stop_requested_.load() || stop_after_update;
    if (communicator_) { // all ranks or none
      stop = sum_over_ranks({stop ? 1.0 : 0.0}, "agreeing to stop")[0] > 0;
      stop_after_update = false;
    }
    if (stop) {
      return snapshotted ? last_snapshot_ : snapshot();
    }
  }
  if (communicator_) {
    check_parameters_agree("at the end of training");
    // Rank 0's last files are complete when any rank returns.
    communicator_->barrier("finishing");
  }
  return last_snapshot_;
}

} // namespace train
} // namespace fcnlab
