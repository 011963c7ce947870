#include <fcnlab/train/pretrain.h>

#include <fcnlab/caffe/exporter.h>
#include <fcnlab/models/builtin_nets.h>

#include <ATen/Context.h>
#include <c10/util/Exception.h>

namespace fcnlab {
namespace train {
namespace {

// Rank 0 writes the classifier when training returns.
class ClassifierExport : public TrainerHook {
 public:
  explicit ClassifierExport(std::string dir) : dir_(std::move(dir)) {}

  void after_train(Trainer& trainer, bool) override {
    if (trainer.rank() == 0) {
      caffe::export_classifier(trainer.model(), dir_);
    }
  }

 private:
  std::string dir_;
};

} // namespace

TrainerOptions pretrain_defaults() {
  return TrainerOptions().epochs(10).solver(
      SolverOptions().base_lr(1e-3).lr_policy(LrPolicy::kFixed).iter_size(32));
}

std::unique_ptr<Trainer> classifier_trainer(
    std::shared_ptr<data::SegmentationDataset> train,
    std::shared_ptr<data::SegmentationDataset> val,
    int64_t num_classes,
    TrainerOptions options,
    const data::CropOptions& crops,
    std::vector<std::string> class_names) {
  TORCH_CHECK_VALUE(train, "pretraining needs training data");
  // Crops carry one class each, so flips and crops of the Trainer's
  // augmentation, which transform a label map alongside, do not apply.
  TORCH_CHECK_VALUE(
      !options.augment().enabled(),
      "pretraining takes no augmentation; its crops are mirrored instead");
  auto train_crops = std::make_shared<data::ObjectCrops>(train, crops);
  std::shared_ptr<data::ObjectCrops> val_crops;
  if (val) {
    val_crops = std::make_shared<data::ObjectCrops>(val, crops);
  }
  at::manual_seed(options.seed()); // the initial weights
  models::FcnNet classifier(models::alexnet_classifier_spec(num_classes));
  const auto dir = options.output_dir();
  auto trainer = std::make_unique<Trainer>(
      classifier,
      std::move(train_crops),
      std::move(val_crops),
      std::move(options),
      std::move(class_names));
  trainer->add_hook(std::make_shared<ClassifierExport>(dir));
  return trainer;
}

} // namespace train
} // namespace fcnlab
