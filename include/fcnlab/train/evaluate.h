#pragma once

#include <fcnlab/data/voc.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/train/metrics.h>
#include <fcnlab/util/autocast.h>

#include <cstddef>
#include <cstdint>

namespace fcnlab {
namespace train {

/// What evaluate() measures.
struct Evaluation {
  double loss = 0; ///< mean per image; NaN over no image
  ConfusionMatrix confusion{1};
};

/// What evaluate_shard() measures: sums, so that the shards of a job add up.
struct EvaluationSums {
  double loss_sum = 0; ///< the images' losses added up
  int64_t images = 0;
  ConfusionMatrix confusion{1};
};

/// Loss and confusion matrix over the images first, first + stride, ... of
/// `dataset` (one rank's share of a validation), as evaluate() measures
/// them.
EvaluationSums evaluate_shard(
    models::FcnNet model,
    data::SegmentationDataset& dataset,
    Precision precision,
    size_t first,
    size_t stride);

/// Mean loss per image (the network's own loss settings) and the confusion
/// matrix of `model` over `dataset`, in eval mode without gradients (the
/// model's mode is restored), on the model's device in `precision`.
Evaluation evaluate(
    models::FcnNet model,
    data::SegmentationDataset& dataset,
    Precision precision = Precision::kFloat32);

} // namespace train
} // namespace fcnlab
