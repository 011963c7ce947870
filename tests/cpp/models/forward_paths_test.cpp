// forward() takes faster routes than the plain layers (packed oneDNN weights
// for inference, GEMMs for the fully connected layers in training, a
// separable upscore with the crop folded in). trace() runs the plain layers;
// these tests hold forward() to it.
#include <fcnlab/models/fcn_alexnet.h>

#include "seeded_test.h"

#include <torch/torch.h>

namespace fcnlab {
namespace models {
namespace {

using ForwardPathsTest = testing::SeededTest;

torch::Tensor reference(FcnAlexNet& net, const torch::Tensor& input) {
  return net->trace(input).back().second;
}

// Largest difference relative to the largest reference value.
double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  return (got - want).abs().max().item<double>() /
      std::max(want.abs().max().item<double>(), 1e-12);
}

FcnAlexNet scoring_net(int64_t classes = 21, double dropout = 0.5) {
  FcnAlexNet net(FcnAlexNetOptions(classes).dropout(dropout));
  torch::NoGradGuard no_grad;
  torch::nn::init::normal_(net->score_fr->weight, 0, 0.01);
  torch::nn::init::normal_(net->score_fr->bias, 0, 0.1);
  return net;
}

TEST_F(ForwardPathsTest, InferenceMatchesThePlainLayers) {
  auto net = scoring_net();
  net->eval();
  torch::NoGradGuard no_grad;
  for (const auto& size : {std::pair<int64_t, int64_t>{375, 500}, {33, 47}}) {
    const auto input = torch::rand({2, 3, size.first, size.second}) * 255;
    const auto got = net->forward(input);
    EXPECT_EQ(
        got.sizes(), torch::IntArrayRef({2, 21, size.first, size.second}));
    EXPECT_LT(relative_error(got, reference(net, input)), 1e-5);
  }
}

TEST_F(ForwardPathsTest, InferenceSeesEveryWeightChange) {
  auto net = scoring_net(5);
  net->eval();
  torch::NoGradGuard no_grad;
  const auto input = torch::rand({1, 3, 40, 60}) * 255;
  const auto before = net->forward(input);
  // In place, as the solver updates weights.
  net->fc6->weight.mul_(-1);
  const auto after_update = net->forward(input);
  EXPECT_GT(relative_error(after_update, before), 0.1);
  EXPECT_LT(relative_error(after_update, reference(net, input)), 1e-5);
  // A replaced tensor, as loading another model may do.
  net->conv1->weight.set_data(net->conv1->weight.clone().mul_(2));
  EXPECT_LT(relative_error(net->forward(input), reference(net, input)), 1e-5);
  // Training in between, then inference again.
  net->train();
  net->conv3->bias.add_(1);
  net->eval();
  EXPECT_LT(relative_error(net->forward(input), reference(net, input)), 1e-5);
}

TEST_F(ForwardPathsTest, ANonBilinearUpscoreIsHonoured) {
  auto net = scoring_net(4);
  net->eval();
  torch::NoGradGuard no_grad;
  const auto input = torch::rand({1, 3, 50, 40}) * 255;
  const auto bilinear = net->forward(input);
  net->upscore->weight[2].mul_(0.5);
  const auto got = net->forward(input);
  EXPECT_LT(relative_error(got, reference(net, input)), 1e-5);
  EXPECT_LT(relative_error(got[0][0], bilinear[0][0]), 1e-6);
  EXPECT_GT(relative_error(got[0][2], bilinear[0][2]), 0.4);
}

TEST_F(ForwardPathsTest, TrainingGradientsMatchThePlainLayers) {
  // No dropout, so both passes see the same network.
  auto net = scoring_net(21, /*dropout=*/0);
  net->train();
  const auto input = torch::rand({2, 3, 60, 70}) * 255;
  const auto weights = torch::rand({2, 21, 60, 70});

  (net->forward(input) * weights).sum().backward();
  std::vector<torch::Tensor> fast;
  for (auto& parameter : net->parameters()) {
    if (parameter.requires_grad()) {
      fast.push_back(parameter.grad().clone());
      parameter.mutable_grad().reset();
    }
  }
  (reference(net, input) * weights).sum().backward();
  size_t i = 0;
  for (const auto& pair : net->named_parameters()) {
    if (!pair.value().requires_grad()) {
      continue;
    }
    EXPECT_LT(relative_error(fast[i++], pair.value().grad()), 1e-4)
        << pair.key();
  }
  EXPECT_EQ(i, fast.size());
}

TEST_F(ForwardPathsTest, ChannelsLastInputGivesTheSameScores) {
  // Tensors from Python or OpenCV may come in NHWC order.
  auto net = scoring_net(6, /*dropout=*/0);
  const auto input = torch::rand({1, 3, 45, 70}) * 255;
  const auto nhwc = input.contiguous(torch::MemoryFormat::ChannelsLast);
  for (const bool training : {false, true}) {
    net->train(training);
    torch::AutoGradMode grad_mode(training);
    EXPECT_LT(relative_error(net->forward(nhwc), reference(net, input)), 1e-5)
        << (training ? "training" : "inference");
  }
}

TEST_F(ForwardPathsTest, DoublePrecisionTakesThePlainLayers) {
  auto net = scoring_net(3);
  net->to(torch::kDouble);
  net->eval();
  torch::NoGradGuard no_grad;
  const auto input = torch::rand({1, 3, 20, 30}, torch::kDouble) * 255;
  const auto got = net->forward(input);
  EXPECT_EQ(got.scalar_type(), torch::kDouble);
  EXPECT_LT(relative_error(got, reference(net, input)), 1e-12);
}

} // namespace
} // namespace models
} // namespace fcnlab
