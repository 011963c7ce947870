#pragma once

#include <fcnlab/data/object_crops.h>
#include <fcnlab/data/voc.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/train/trainer.h>

#include <memory>
#include <string>
#include <vector>

namespace fcnlab {
namespace train {

/// The Trainer's options for pretraining the Alexnet classifier from
/// scratch: SGD at a fixed lr 1e-3 with 32 crops per update, which go
/// through the network as one batch, 10 epochs. (bvlc_alexnet's 0.01, with
/// its batches of 256, diverges within an epoch on the synthetic crops.)
TrainerOptions pretrain_defaults();

/// A Trainer of alexnet_classifier_spec(num_classes) on the object crops of
/// `train`, validating on those of `val` (may be null); its metrics are then
/// classification metrics (pixel accuracy = top-1 accuracy). The initial
/// weights are drawn from options.seed. Snapshots, logs
/// and curves go to options.output_dir as in any training run, and it
/// resumes the same way. When train() returns (finished or stopped), rank 0
/// exports the classifier there (caffe::export_classifier(), at
/// caffe::classifier_caffemodel_path()). Throws c10::Error when `train` has no
/// crops.
std::unique_ptr<Trainer> classifier_trainer(
    std::shared_ptr<data::SegmentationDataset> train,
    std::shared_ptr<data::SegmentationDataset> val,
    int64_t num_classes,
    TrainerOptions options = pretrain_defaults(),
    const data::CropOptions& crops = {},
    std::vector<std::string> class_names = {});

} // namespace train
} // namespace fcnlab
