#include <fcnlab/train/evaluate.h>

#include <fcnlab/train/loss.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <limits>

namespace fcnlab {
namespace train {

EvaluationSums evaluate_shard(
    models::FcnNet model,
    data::SegmentationDataset& dataset,
    Precision precision,
    size_t first,
    size_t stride) {
  TORCH_CHECK_VALUE(stride >= 1, "evaluation stride must be >= 1");
  const bool was_training = model->is_training();
  model->eval();
  torch::NoGradGuard no_grad;
  const auto device = model->device();
  const Autocast autocast(device.type(), precision);
  EvaluationSums sums{0, 0, ConfusionMatrix(model->num_classes())};
  for (size_t i = first; i < dataset.size().value(); i += stride) {
    const auto example = dataset.get(i);
    const auto scores = model->forward(example.data.unsqueeze(0).to(device));
    const auto labels = example.target.unsqueeze(0).to(device);
    sums.loss_sum +=
        segmentation_loss(scores, labels, model->spec().loss).item<double>();
    sums.confusion.update(scores.argmax(1), labels);
    ++sums.images;
  }
  model->train(was_training);
  return sums;
}

Evaluation evaluate(
    models::FcnNet model,
    data::SegmentationDataset& dataset,
    Precision precision) {
  auto sums = evaluate_shard(model, dataset, precision, 0, 1);
  return {
      sums.images ? sums.loss_sum / double(sums.images)
                  : std::numeric_limits<double>::quiet_NaN(),
      std::move(sums.confusion)};
}

} // namespace train
} // namespace fcnlab
