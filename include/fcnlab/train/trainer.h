#pragma once

#include <fcnlab/data/augment.h>
#include <fcnlab/data/voc.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/train/distributed.h>
#include <fcnlab/train/evaluate.h>
#include <fcnlab/train/hooks.h>
#include <fcnlab/train/loss.h>
#include <fcnlab/train/metrics.h>
#include <fcnlab/train/solver.h>

#include <torch/arg.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fcnlab {
namespace train {

/// Options of a training run (DIGITS' defaults: batch 1 at native size,
/// SGD lr 1e-4, momentum 0.9, weight decay 5e-4, lr x0.1 every 33%).
struct TrainerOptions {
  TORCH_ARG(int64_t, epochs) = 10;
  /// Updates to run, as Caffe counts them (its max_iter); 0 lets `epochs`
  /// decide. When set, training runs the epochs these updates start, the
  /// last one cut short after update max_iter, and `epochs` is not used.
  TORCH_ARG(int64_t, max_iter) = 0;
  TORCH_ARG(SolverOptions, solver) = {};
  /// Write a snapshot every this many epochs (and at the end).
  TORCH_ARG(int64_t, snapshot_every) = 1;
  /// Validate every this many epochs (and at the end).
  TORCH_ARG(int64_t, val_every) = 1;
  TORCH_ARG(std::string, output_dir) = "train_out";
  /// What the run's record (run.json) names as its data, e.g. the dataset
  /// folder; only recorded.
  TORCH_ARG(std::string, dataset) = "";
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
  /// overflow are skipped), or "auto" (resolve_precision). Weights and
  /// updates stay float32. (The CLI's --amp and Python's amp= set it.)
  TORCH_ARG(std::string, precision) = "fp32";
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
  /// snapshots. false, or no such variables: a single process. (Python's
  /// distributed= sets it.)
  TORCH_ARG(bool, join_job) = true;
  /// The job to join when `join_job`, for programs that launch their
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

 public:
  /// The names precision and join_job had before; kept for one release.
  [[deprecated("use precision()")]] TrainerOptions& amp(
      const std::string& value) {
    return precision(value);
  }
  [[deprecated("use precision()")]] const std::string& amp() const {
    return precision();
  }
  [[deprecated("use join_job()")]] TrainerOptions& distributed(bool value) {
    return join_job(value);
  }
  [[deprecated("use join_job()")]] bool distributed() const {
    return join_job();
  }
};

/// Trains any FcnNet (FCN-Alexnet, the FCN VGG16 nets, a prototxt's
/// network) with Caffe's solvers (SolverOptions::type), each parameter at its
/// layer's lr_mult and decay_mult, validating, logging and writing snapshots
/// into output_dir:
///   snapshot_iter_<N>.pt  weights, solver state, epoch, position, RNG state
///   model.pt              the latest weights as an fcnlab model file
///   metrics.jsonl, iterations.csv, epochs.csv, curves.png
///   run.json              what the run is and where it stands: status
///                         (running, finished, stopped, failed with its
///                         error), process, times, network, options
/// All files are written atomically; temporaries that a killed run left in
/// output_dir are removed when training starts. A NaN or infinite loss stops
/// training with a c10::Error naming the iteration and the last good snapshot.
class Trainer {
 public:
  using IterationCallback = CallbackHook::IterationCallback;
  using EpochCallback = CallbackHook::EpochCallback;

  /// Checks the options and the data, then joins the job that the options
  /// or the environment describe (TrainerOptions::join_job), moves the
  /// model to options.device and sets the CPU threads of this process
  /// (TrainerOptions::threads).
  Trainer(
      models::FcnNet model,
      std::shared_ptr<data::SegmentationDataset> train_data,
      std::shared_ptr<data::SegmentationDataset> val_data,
      TrainerOptions options,
      std::vector<std::string> class_names = {});
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  /// Runs `hook` at the loop's fixed points (hooks.h), after the Trainer's
  /// own hooks and those added before it.
  void add_hook(std::shared_ptr<TrainerHook> hook);
  /// Called after every update; returning false stops training (a snapshot
  /// is written first). A CallbackHook.
  void on_iteration(IterationCallback callback);
  /// Called after every epoch; returning false stops training.
  void on_epoch(EpochCallback callback);

  /// Continues from a snapshot written by a Trainer with the same data.
  void resume(const std::string& snapshot_path);

  /// Trains until options.epochs are done or a stop is requested. Returns
  /// the path of the last snapshot (on every rank of a job; rank 0 wrote
  /// it).
  std::string train();

  /// Asks train() to finish the current update, write a snapshot and return.
  /// Safe to call from a signal handler or another thread.
  void request_stop();

  const std::vector<EpochInfo>& history() const;
  int64_t iteration() const;
  models::FcnNet model() const;
  /// The options in force: the constructor's, with the solver settings left
  /// to the training length filled in (for_training_length()).
  const TrainerOptions& options() const;
  /// This process's rank and the job's size (0 and 1 outside a job).
  int64_t rank() const;
  int64_t world_size() const;
  /// In a job, what sums the gradients ("gloo" or "nccl"); "" outside one.
  std::string gradient_backend() const;
  /// Seconds spent averaging gradients over the ranks so far.
  double communication_seconds() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

/// The weights of a training snapshot (snapshot_iter_<N>.pt) read into
/// `model`, which must be the snapshot's network (its run's model.pt, loaded,
/// is): what Trainer::resume() restores, without the solver, to look at an
/// earlier state of a run. Throws c10::Error naming the file when it is not
/// a snapshot or not one of this network.
void load_snapshot_weights(
    const std::string& snapshot_path,
    models::FcnNet model);

} // namespace train
} // namespace fcnlab
