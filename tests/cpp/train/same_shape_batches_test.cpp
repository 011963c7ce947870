// Images of an update with equal sizes go through the network as one batch;
// the update must equal accumulating them one at a time.
#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/train/trainer.h>

#include "seeded_test.h"
#include "tensor_dataset.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

namespace fcnlab {
namespace train {
namespace {

class SameShapeBatchesTest : public testing::SeededTest {};

TEST_F(SameShapeBatchesTest, ImageLossesAreEachImagesOwnLoss) {
  const auto scores = torch::randn({3, 4, 5, 6});
  auto labels = torch::randint(0, 4, {3, 5, 6}, torch::kLong);
  labels[1].slice(0, 0, 2).fill_(255);
  labels[2].fill_(255); // nothing to learn from: 0
  for (const bool normalize : {true, false}) {
    models::LossSpec loss;
    loss.normalize = normalize;
    const auto losses = image_losses(scores, labels, loss);
    ASSERT_EQ(losses.sizes(), (std::vector<int64_t>{3}));
    for (int64_t i = 0; i < 3; ++i) {
      const double alone =
          segmentation_loss(
              scores.slice(0, i, i + 1), labels.slice(0, i, i + 1), loss)
              .item<double>();
      EXPECT_NEAR(losses[i].item<double>(), alone, 1e-5 * (1 + alone))
          << "image " << i << " normalize " << normalize;
    }
  }
}

// Two sizes in one set, so every update of 4 mixes batches of both.
std::shared_ptr<testing::TensorDataset> mixed_sizes() {
  std::vector<data::SegmentationExample> examples;
  for (int i = 0; i < 8; ++i) {
    const int64_t height = i % 3 == 0 ? 24 : 32;
    auto label = torch::randint(0, 5, {height, 28}, torch::kLong);
    label.slice(0, 0, 3).fill_(255);
    examples.push_back({torch::rand({3, height, 28}) * 255, label});
  }
  return std::make_shared<testing::TensorDataset>(std::move(examples));
}

models::FcnAlexNet initial_model() {
  torch::manual_seed(3);
  // No dropout: batching draws its masks differently.
  models::FcnAlexNet model(models::FcnAlexNetOptions(5).dropout(0));
  // A scorer away from zero, so that every layer gets gradients.
  torch::NoGradGuard no_grad;
  for (auto& item : model->named_parameters()) {
    if (item.key().rfind("score_fr", 0) == 0) {
      item.value().normal_(0, 0.01);
    }
  }
  return model;
}

std::vector<torch::Tensor> trained(
    const std::shared_ptr<testing::TensorDataset>& data,
    bool batch_equal_sizes,
    const std::string& dir) {
  auto model = initial_model();
  Trainer trainer(
      model,
      data,
      nullptr,
      TrainerOptions()
          .epochs(1)
          .solver(SolverOptions().base_lr(1e-2).iter_size(4).lr_policy(
              LrPolicy::kFixed))
          .batch_equal_sizes(batch_equal_sizes)
          .output_dir(dir)
          .threads(2)
          .progress(false));
  int64_t updates = 0;
  trainer.on_iteration([&](const IterationInfo&) { return ++updates > 0; });
  trainer.train();
  EXPECT_EQ(updates, 2);
  std::vector<torch::Tensor> parameters;
  for (const auto& parameter : model->parameters()) {
    parameters.push_back(parameter.detach().clone());
  }
  return parameters;
}

TEST_F(SameShapeBatchesTest, BatchedUpdateEqualsOneImageAtATime) {
  const auto data = mixed_sizes();
  const auto start = initial_model();
  const auto batched = trained(data, true, path("batched"));
  const auto single = trained(data, false, path("single"));
  ASSERT_EQ(batched.size(), single.size());
  double largest_change = 0;
  const auto initial = start->parameters();
  for (size_t i = 0; i < batched.size(); ++i) {
    EXPECT_LE((batched[i] - single[i]).abs().max().item<double>(), 1e-5)
        << "parameter " << i;
    largest_change = std::max(
        largest_change, (single[i] - initial[i]).abs().max().item<double>());
  }
  EXPECT_GT(largest_change, 2e-4) << "the updates changed nothing";
}

} // namespace
} // namespace train
} // namespace fcnlab
