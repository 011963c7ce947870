#pragma once

#include <fcnlab/data/voc.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/train/trainer.h>

#include <cstdint>
#include <string>

namespace fcnlab {
namespace train {

/// What dry_run() did.
struct DryRun {
  std::string image; ///< the training image it ran on
  int64_t height = 0;
  int64_t width = 0;
  double loss = 0;
};

/// One forward and backward pass on the first training image, on
/// options.device() in options.precision(), as training would run it: what
/// `fcnlab train --dry-run` does to check the data, the weights, the device
/// and its memory before a long run. Moves `model` to the device and puts
/// it in training mode; updates nothing, writes nothing, and leaves no
/// gradients behind. Throws c10::Error for empty data or an unavailable
/// device or precision.
DryRun dry_run(
    models::FcnNet model,
    data::SegmentationDataset& train_data,
    const TrainerOptions& options);

} // namespace train
} // namespace fcnlab
