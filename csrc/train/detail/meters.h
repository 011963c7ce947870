#pragma once

#include <fcnlab/models/net_spec.h>

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fcnlab {
namespace train {
namespace detail {

/// What one batch's forward and backward measured.
struct BatchStatistics {
  double loss = 0;    ///< the batch's loss (its images' losses summed)
  double correct = 0; ///< correctly labelled pixels
  double counted = 0; ///< pixels not ignored
};

/// A batch's statistics, read from the device in one transfer. Called after
/// backward has queued its work: reading the loss earlier would leave a GPU
/// idle between the passes.
BatchStatistics read_batch_statistics(
    const at::Tensor& scores,
    const at::Tensor& labels,
    const at::Tensor& loss,
    const models::LossSpec& spec);

/// The batches of one update, or the first one whose loss is not finite.
class UpdateMeter {
 public:
  void add(const BatchStatistics& batch, int64_t images);
  /// The batch of image `image` had a non-finite `loss`.
  void diverge(double loss, std::string image);

  bool finite() const {
    return diverged_image_.empty();
  }
  int64_t images() const {
    return images_;
  }
  /// Mean loss per image.
  double loss() const;
  /// Correct / counted pixels; NaN when none counted.
  double accuracy() const;
  double diverged_loss() const {
    return diverged_loss_;
  }
  const std::string& diverged_image() const {
    return diverged_image_;
  }

 private:
  friend class EpochMeter;
  std::vector<double> batch_losses_; ///< in order: the epoch adds them so
  double loss_ = 0;
  int64_t images_ = 0;
  int64_t correct_ = 0;
  int64_t counted_ = 0;
  double diverged_loss_ = 0;
  std::string diverged_image_;
};

/// An epoch's updates on this rank.
class EpochMeter {
 public:
  void add(const UpdateMeter& update);
  /// {loss sum, images, correct pixels, counted pixels}: what adds up over
  /// the ranks of a job.
  std::vector<double> sums() const;
  /// Mean loss per image and pixel accuracy of `sums` (NaN over nothing).
  static double loss(const std::vector<double>& sums);
  static double accuracy(const std::vector<double>& sums);

 private:
  double loss_ = 0;
  int64_t images_ = 0;
  int64_t correct_ = 0;
  int64_t counted_ = 0;
};

} // namespace detail
} // namespace train
} // namespace fcnlab
