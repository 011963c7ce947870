#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace fcnlab {
namespace train {

class Trainer;

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
  /// The validation confusion matrix, num_classes x num_classes row-major
  /// (rows ground truth, columns prediction); empty when not validated.
  std::vector<int64_t> val_confusion;
  double seconds = 0; ///< the epoch's training and validation
};

/// Something that takes part in training at fixed points of the loop (as
/// detectron2's hooks do): Trainer::add_hook(). The Trainer's own hooks come
/// first, in this order: validation (fills the val_* of EpochInfo, on every
/// rank of a job), the metrics and curves writers, the progress printer and
/// the checkpointer (rank 0 writes); then the added ones, in the order they
/// were added. Hooks run on every rank of a job. An exception from a hook
/// stops training with that error.
class TrainerHook {
 public:
  virtual ~TrainerHook() = default;
  /// When train() starts (after a resume, the restored state is in place).
  virtual void before_train(Trainer& trainer) {}
  /// After each update; false asks training to stop. One process stops at
  /// once; the ranks of a job stop together after the next update, which
  /// tells them all. A snapshot is written first.
  virtual bool after_step(Trainer& trainer, const IterationInfo& info) {
    return true;
  }
  /// After each epoch, with `info` already in trainer.history(); a hook may
  /// fill in what it measured. false asks training to stop.
  virtual bool after_epoch(Trainer& trainer, EpochInfo& info) {
    return true;
  }
  /// When train() returns: `stopped` when it stopped before its last epoch.
  /// Not called when training fails with an exception.
  virtual void after_train(Trainer& trainer, bool stopped) {}
};

/// A hook made of functions (either may be empty): Trainer::on_iteration()
/// and Trainer::on_epoch().
class CallbackHook : public TrainerHook {
 public:
  using IterationCallback = std::function<bool(const IterationInfo&)>;
  using EpochCallback = std::function<bool(const EpochInfo&)>;

  CallbackHook(IterationCallback on_iteration, EpochCallback on_epoch)
      : on_iteration_(std::move(on_iteration)),
        on_epoch_(std::move(on_epoch)) {}

  bool after_step(Trainer&, const IterationInfo& info) override {
    return !on_iteration_ || on_iteration_(info);
  }
  bool after_epoch(Trainer&, EpochInfo& info) override {
    return !on_epoch_ || on_epoch_(info);
  }

 private:
  IterationCallback on_iteration_;
  EpochCallback on_epoch_;
};

} // namespace train
} // namespace fcnlab
