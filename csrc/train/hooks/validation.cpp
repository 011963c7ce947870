#include "builtin_hooks.h"

#include <fcnlab/train/evaluate.h>
#include <fcnlab/train/trainer.h>

#include <chrono>
#include <limits>

namespace fcnlab {
namespace train {
namespace detail {
namespace {

using Clock = std::chrono::steady_clock;

class ValidationHook : public TrainerHook {
 public:
  ValidationHook(
      std::shared_ptr<data::SegmentationDataset> data,
      int64_t every,
      int64_t epochs,
      Precision precision,
      DataParallel& parallel)
      : data_(std::move(data)),
        every_(every),
        epochs_(epochs),
        precision_(precision),
        parallel_(parallel) {}

  bool after_epoch(Trainer& trainer, EpochInfo& info) override {
    if (info.epoch % every_ != 0 && info.epoch != epochs_) {
      return true;
    }
    const auto start = Clock::now();
    auto shard = evaluate_shard(
        trainer.model(),
        *data_,
        precision_,
        static_cast<size_t>(parallel_.rank()),
        static_cast<size_t>(parallel_.world_size()));
    const auto sums = parallel_.sum(
        {shard.loss_sum, double(shard.images)}, "summing validation");
    auto counts = shard.confusion.counts();
    parallel_.sum_in_place(counts, "summing confusion matrices");
    const auto& confusion = shard.confusion;
    info.val_loss = sums[1] > 0 ? sums[0] / sums[1]
                                : std::numeric_limits<double>::quiet_NaN();
    info.val_pixel_accuracy = confusion.pixel_accuracy();
    info.val_mean_accuracy = confusion.mean_accuracy();
    info.val_mean_iu = confusion.mean_iu();
    info.val_frequency_weighted_iu = confusion.frequency_weighted_iu();
    info.val_class_iu = confusion.class_iu();
    const auto flat = counts.to(at::kCPU).contiguous();
    info.val_confusion.assign(
        flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel());
    info.seconds += std::chrono::duration<double>(Clock::now() - start).count();
    return true;
  }

 private:
  std::shared_ptr<data::SegmentationDataset> data_;
  int64_t every_;
  int64_t epochs_;
  Precision precision_;
  DataParallel& parallel_;
};

} // namespace

std::shared_ptr<TrainerHook> validation_hook(
    std::shared_ptr<data::SegmentationDataset> data,
    int64_t every,
    int64_t epochs,
    Precision precision,
    DataParallel& parallel) {
  return std::make_shared<ValidationHook>(
      std::move(data), every, epochs, precision, parallel);
}

} // namespace detail
} // namespace train
} // namespace fcnlab
