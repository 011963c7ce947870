#pragma once

#include <fcnlab/data/augment.h>
#include <fcnlab/data/voc.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/train/distributed.h>
#include <fcnlab/train/metrics.h>
#include <fcnlab/train/solver.h>
#include <fcnlab/util/autocast.h>

#include <torch/arg.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fcnlab {
namespace train {
namespace detail {
class GradScaler;
class GradientBuckets;
} // namespace detail
class Communicator;

/// Options of a training run (DIGITS' defaults: batch 1 at native size,
/// SGD lr 1e-4, momentum 0.9, weight decay 5e-4, lr x0.1 every 33%).
struct TrainerOptions {
  TORCH_ARG(int64_t, epochs) = 10;
  TORCH_ARG(SolverOptions, solver) = {};
  /// Write a snapshot every this many epochs (and at the end).
  TORCH_ARG(int64_t, snapshot_every) = 1;
  /// Validate every this many epochs (and at the end).
  TORCH_ARG(int64_t, val_every) = 1;
  TORCH_ARG(std::string, output_dir) = "train_out";
  /// Seeds weights' dropout masks and the sample order.
  TORCH_ARG(uint64_t, seed) = 0;
  /// CPU threads for tensor math; 0 uses every core.
  TORCH_ARG(int, threads) = 0;
  /// Loader threads decoding images ahead of training.
  TORCH_ARG(int, workers) = 2;
  /// Random transforms of the training samples (off by default), drawn
  /// from seed, epoch and sample: reproducible and the same after a resume.
  TORCH_ARG(data::AugmentOptions, augment) = {};
  /// Log training loss/accuracy every this many updates.
  TORCH_ARG(int64_t, log_every) = 10;
  /// Print progress (images/s, ETA) on stderr: one line rewritten in place
  /// on a terminal, else a plain line every progress_seconds.
  TORCH_ARG(bool, progress) = true;
  TORCH_ARG(double, progress_seconds) = 30;
  /// "cpu", "cuda" or "cuda:N" (checked by parse_device()).
  TORCH_ARG(std::string, device) = "cpu";
  /// Forward passes in "fp32", or mixed precision: "bf16" (CPU or CUDA) or
  /// "fp16" (CUDA, with dynamic loss scaling; updates whose gradients
  /// overflow are skipped). Weights and updates stay float32.
  TORCH_ARG(std::string, amp) = "fp32";
  /// The images of one update (solver.iter_size) that have the same size go
  /// through forward and backward together as one batch, their losses
  /// summed per image, so the update equals batch-1 accumulation within
  /// float rounding (dropout draws its masks differently). false: one image
  /// at a time.
  TORCH_ARG(bool, batch_equal_sizes) = true;
  /// Become one rank of a data-parallel job when the environment describes
  /// one (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT; job_from_environment()):
  /// each rank trains its shard of every epoch, gradients are averaged, so
  /// one update sees world_size x iter_size images, as one process with
  /// iter_size x world_size would; rank 0 alone writes logs, curves and
  /// snapshots. false, or no such variables: a single process.
  TORCH_ARG(bool, distributed) = true;
  /// The job to join when `distributed`, for programs that launch their
  /// ranks themselves; unset: the environment's (job_from_environment()).
  TORCH_ARG(std::optional<JobEnvironment>, job) = std::nullopt;
  /// What sums the gradients of a job on CUDA: "auto" (NCCL when this
  /// build has it, else Gloo), "gloo" or "nccl". CPU training uses Gloo.
  TORCH_ARG(std::string, distributed_backend) = "auto";
  /// How long a rank waits for the others in a collective before failing
  /// with an error (a rank that died or hangs).
  TORCH_ARG(double, distributed_timeout_seconds) = 300;
  /// In a job: start each bucket's all-reduce as soon as backward has
  /// produced its gradients, while backward goes on; false: after backward.
  TORCH_ARG(bool, overlap_communication) = true;
};

/// After each update.
struct IterationInfo {
  int64_t epoch = 0;     ///< 1-based
  int64_t iteration = 0; ///< updates done so far
  double loss = 0;       ///< mean over the update's non-ignored pixels
  double accuracy = 0;   ///< correct / non-ignored pixels (DIGITS' accuracy)
  double learning_rate = 0;
  double images_per_second = 0;
};

/// After each epoch. val_* are NaN when the epoch was not validated.
struct EpochInfo {
  int64_t epoch = 0;
  int64_t iteration = 0;
  double learning_rate = 0;
  double train_loss = 0;
  double train_accuracy = 0;
  double val_loss = 0;
  double val_pixel_accuracy = 0;
  double val_mean_accuracy = 0;
  double val_mean_iu = 0;
  double val_frequency_weighted_iu = 0;
  /// IU of each class (NaN where absent from both sides); empty when the
  /// epoch was not validated.
  std::vector<double> val_class_iu;
  double seconds = 0;
};

/// What evaluate() measures.
struct Evaluation {
  double loss = 0;
  ConfusionMatrix confusion{1};
};

/// Softmax cross-entropy over classes with `loss.ignore_label` ignored:
/// averaged over the non-ignored pixels when loss.normalize (DIGITS'
/// normalize: true), else summed over them and divided by the batch size
/// (Caffe's BATCH_SIZE, the FCN reference's VGG nets). Returns a zero that
/// keeps the graph when every pixel is ignored. scores N x C x H x W, labels
/// N x H x W int64.
at::Tensor segmentation_loss(
    const at::Tensor& scores,
    const at::Tensor& labels,
    const models::LossSpec& loss = {});

/// segmentation_loss() of each image of the batch on its own: N values.
at::Tensor image_losses(
    const at::Tensor& scores,
    const at::Tensor& labels,
    const models::LossSpec& loss = {});

/// evaluate() over the images first, first + stride, ... of `dataset`, with
/// Evaluation::loss the sum (not the mean) of their losses; `count` gets
/// their number. For sharding validation over the ranks of a job.
Evaluation evaluate_strided(
    models::FcnNet model,
    data::SegmentationDataset& dataset,
    Precision precision,
    size_t first,
    size_t stride,
    int64_t& count);

/// Mean loss per image (the network's own loss settings) and the confusion
/// matrix of `model` over `dataset`, in eval mode without gradients (the
/// model's mode is restored), on the model's device in `precision`.
Evaluation evaluate(
    models::FcnNet model,
    data::SegmentationDataset& dataset,
    Precision precision = Precision::kFloat32);

/// Trains any FcnNet (FCN-Alexnet, the FCN VGG16 nets, a prototxt's
/// network) with Caffe's solvers (SolverOptions::type), each parameter at its
/// layer's lr_mult and decay_mult, validating, logging and writing snapshots
/// into output_dir:
///   snapshot_iter_<N>.pt  weights, solver state, epoch, position, RNG state
///   model.pt              the latest weights as an fcnlab model file
///   metrics.jsonl, iterations.csv, epochs.csv, curves.png
/// All files are written atomically; temporaries that a killed run left in
/// output_dir are removed when training starts. A NaN or infinite loss stops
/// training with a c10::Error naming the iteration and the last good snapshot.
class Trainer {
 public:
  using IterationCallback = std::function<bool(const IterationInfo&)>;
  using EpochCallback = std::function<bool(const EpochInfo&)>;

  Trainer(
      models::FcnNet model,
      std::shared_ptr<data::SegmentationDataset> train_data,
      std::shared_ptr<data::SegmentationDataset> val_data,
      TrainerOptions options,
      std::vector<std::string> class_names = {});
  ~Trainer();

  /// Called after every update; returning false stops training (a snapshot
  /// is written first).
  void on_iteration(IterationCallback callback);
  /// Called after every epoch; returning false stops training.
  void on_epoch(EpochCallback callback);

  /// Continues from a snapshot written by a Trainer with the same data.
  void resume(const std::string& snapshot_path);

  /// Trains until options.epochs are done or a stop is requested. Returns
  /// the path of the last snapshot.
  std::string train();

  /// Asks train() to finish the current update, write a snapshot and return.
  /// Safe to call from a signal handler or another thread.
  void request_stop() {
    stop_requested_.store(true);
  }

  const std::vector<EpochInfo>& history() const {
    return history_;
  }
  int64_t iteration() const {
    return iteration_;
  }
  models::FcnNet model() const {
    return model_;
  }
  /// This process's rank and the job's size (0 and 1 outside a job).
  int64_t rank() const;
  int64_t world_size() const;
  /// In a job, what sums the gradients ("gloo" or "nccl"); "" outside one.
  std::string gradient_backend() const;
  /// Seconds spent averaging gradients over the ranks so far.
  double communication_seconds() const {
    return communication_seconds_;
  }

 private:
  std::string snapshot();
  /// Divides the gradients by the loss scale; false on an overflow.
  bool unscale_gradients();
  void log_iteration(const IterationInfo& info);
  void log_epoch(const EpochInfo& info);
  /// Joins the job the options or the environment describe, if any, summing
  /// CUDA gradients over `cuda_backend`, and checks that every rank has the
  /// same data and options.
  void join_job(CudaBackend cuda_backend);
  /// Gives every rank rank 0's parameters and checks that they agree.
  void synchronize_parameters();
  /// Throws naming the first rank whose parameters differ from rank 0's.
  void check_parameters_agree(const std::string& when);
  /// Validation over this rank's share of val_data, summed over the ranks.
  Evaluation validate();
  /// Sums `values` over the ranks (a no-op in a single process).
  std::vector<double> sum_over_ranks(
      std::vector<double> values,
      const std::string& what);
  bool writes_files() const;

  models::FcnNet model_;
  std::shared_ptr<data::SegmentationDataset> train_data_;
  std::shared_ptr<data::SegmentationDataset> val_data_;
  TrainerOptions options_;
  std::vector<std::string> class_names_;
  std::unique_ptr<Solver> solver_;
  c10::Device device_{c10::kCPU};
  Precision precision_ = Precision::kFloat32;
  std::unique_ptr<detail::GradScaler> scaler_; ///< float16 runs only
  std::vector<IterationCallback> iteration_callbacks_;
  std::vector<EpochCallback> epoch_callbacks_;
  std::vector<EpochInfo> history_;
  std::atomic<bool> stop_requested_{false};
  int64_t epoch_ = 0;     ///< epochs completed
  int64_t position_ = 0;  ///< samples done in the current epoch
  int64_t iteration_ = 0; ///< updates done
  bool resumed_ = false;
  std::string last_snapshot_;
  std::shared_ptr<Communicator> communicator_; ///< null in a single process
  std::unique_ptr<detail::GradientBuckets> buckets_;
  double communication_seconds_ = 0;
};

} // namespace train
} // namespace fcnlab
