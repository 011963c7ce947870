#include <fcnlab/train/dry_run.h>

#include <fcnlab/train/loss.h>
#include <fcnlab/util/autocast.h>
#include <fcnlab/util/device.h>

#include <c10/util/Exception.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <utility>
#include <vector>

namespace fcnlab {
namespace train {

DryRun dry_run(
    models::FcnNet model,
    data::SegmentationDataset& train_data,
    const TrainerOptions& options) {
  TORCH_CHECK_VALUE(
      train_data.size().value_or(0) > 0,
      "dry run: the training data has no images");
  const auto device = parse_device(options.device());
  const auto precision = resolve_precision(options.precision(), device.type());
  check_precision(precision, device.type());
  model->to(device);
  model->train();
  // A forward pass in training mode updates BatchNorm's sums: keep them.
  std::vector<std::pair<at::Tensor, at::Tensor>> statistics;
  for (const auto& parameter : model->parameters()) {
    if (!parameter.requires_grad()) {
      statistics.emplace_back(parameter, parameter.detach().clone());
    }
  }
  const auto example = train_data.get(0);
  DryRun result;
  result.image = train_data.name(0);
  result.height = example.data.size(1);
  result.width = example.data.size(2);
  at::Tensor loss;
  {
    const Autocast autocast(device.type(), precision);
    const auto scores = model->forward(example.data.unsqueeze(0).to(device));
    loss = segmentation_loss(
        scores, example.target.unsqueeze(0).to(device), model->spec().loss);
  }
  loss.backward();
  result.loss = loss.item<double>();
  model->zero_grad();
  torch::NoGradGuard no_grad;
  for (auto& [parameter, saved] : statistics) {
    parameter.copy_(saved);
  }
  return result;
}

} // namespace train
} // namespace fcnlab
