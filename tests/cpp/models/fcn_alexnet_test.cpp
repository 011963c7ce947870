#include <fcnlab/models/bilinear.h>
#include <fcnlab/models/fcn_alexnet.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <torch/torch.h>

#include <map>

namespace fcnlab {
namespace models {
namespace {

using FcnAlexNetTest = testing::SeededTest;

std::map<std::string, torch::Tensor> by_name(
    const std::vector<std::pair<std::string, torch::Tensor>>& outputs) {
  return {outputs.begin(), outputs.end()};
}

torch::Tensor random_bgr(int64_t height, int64_t width) {
  return torch::rand({1, 3, height, width}) * 255;
}

TEST_F(FcnAlexNetTest, NamedParametersArePinned) {
  FcnAlexNet net;
  const std::vector<std::pair<std::string, std::vector<int64_t>>> expected = {
      {"conv1.weight", {96, 3, 11, 11}},
      {"conv1.bias", {96}},
      {"conv2.weight", {256, 48, 5, 5}},
      {"conv2.bias", {256}},
      {"conv3.weight", {384, 256, 3, 3}},
      {"conv3.bias", {384}},
      {"conv4.weight", {384, 192, 3, 3}},
      {"conv4.bias", {384}},
      {"conv5.weight", {256, 192, 3, 3}},
      {"conv5.bias", {256}},
      {"fc6.weight", {4096, 256, 6, 6}},
      {"fc6.bias", {4096}},
      {"fc7.weight", {4096, 4096, 1, 1}},
      {"fc7.bias", {4096}},
      {"score_fr.weight", {21, 4096, 1, 1}},
      {"score_fr.bias", {21}},
      {"upscore.weight", {21, 1, 63, 63}},
  };
  const auto parameters = net->named_parameters();
  ASSERT_EQ(parameters.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(parameters[i].key(), expected[i].first);
    EXPECT_EQ(parameters[i].value().sizes(), expected[i].second)
        << expected[i].first;
  }
}

TEST_F(FcnAlexNetTest, LearnableParameterCount) {
  FcnAlexNet net;
  EXPECT_EQ(net->num_learnable_parameters(), 56954261);
  int64_t fixed = 0;
  for (const auto& parameter : net->parameters()) {
    fixed += parameter.requires_grad() ? 0 : parameter.numel();
  }
  EXPECT_EQ(fixed, 83349);
}

TEST_F(FcnAlexNetTest, UpscoreIsTheFrozenBilinearKernel) {
  FcnAlexNet net;
  EXPECT_FALSE(net->upscore->weight.requires_grad());
  EXPECT_TRUE(
      torch::equal(net->upscore->weight, bilinear_upsampling_weight(21, 63)));
  EXPECT_EQ(net->upscore->options.groups(), 21);
  EXPECT_FALSE(net->upscore->options.bias());
}

TEST_F(FcnAlexNetTest, PoolingRoundsUpAndGroupsMatchCaffe) {
  FcnAlexNet net;
  EXPECT_TRUE(net->pool1->options.ceil_mode());
  EXPECT_TRUE(net->pool5->options.ceil_mode());
  EXPECT_EQ(net->conv2->options.groups(), 2);
  EXPECT_EQ(net->conv3->options.groups(), 1);
  EXPECT_EQ(net->conv4->options.groups(), 2);
  EXPECT_EQ(net->conv5->options.groups(), 2);
}

TEST_F(FcnAlexNetTest, OutputHasTheInputSizeForAnySize) {
  torch::NoGradGuard no_grad;
  FcnAlexNet net;
  net->eval();
  for (const auto& size : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {7, 9}, {375, 500}, {500, 500}}) {
    const auto scores = net->forward(random_bgr(size.first, size.second));
    EXPECT_EQ(
        scores.sizes(), torch::IntArrayRef({1, 21, size.first, size.second}));
  }
}

TEST_F(FcnAlexNetTest, IntermediateShapesAt375x500) {
  torch::NoGradGuard no_grad;
  FcnAlexNet net;
  net->eval();
  auto outputs = by_name(net->trace(random_bgr(375, 500)));
  EXPECT_EQ(outputs["pool5"].sizes(), torch::IntArrayRef({1, 256, 17, 21}));
  EXPECT_EQ(outputs["fc6"].sizes(), torch::IntArrayRef({1, 4096, 12, 16}));
  EXPECT_EQ(outputs["upscore"].sizes(), torch::IntArrayRef({1, 21, 415, 543}));
  EXPECT_EQ(outputs["score"].sizes(), torch::IntArrayRef({1, 21, 375, 500}));
}

TEST_F(FcnAlexNetTest, ScoreIsUpscoreCroppedAtEighteen) {
  torch::NoGradGuard no_grad;
  FcnAlexNet net;
  net->eval();
  torch::nn::init::normal_(net->score_fr->weight, 0, 0.01);
  EXPECT_EQ(net->crop_offset(), 18);
  const auto input = random_bgr(40, 50);
  auto outputs = by_name(net->trace(input));
  const auto expected =
      outputs["upscore"].slice(2, 18, 18 + 40).slice(3, 18, 18 + 50);
  EXPECT_TRUE(torch::equal(outputs["score"], expected));
  // forward() upsamples and crops in one separable product.
  EXPECT_TRUE(torch::allclose(net->forward(input), expected, 1e-4, 1e-6));
}

TEST_F(FcnAlexNetTest, ZeroInitialisedScorerGivesZeroScores) {
  torch::NoGradGuard no_grad;
  FcnAlexNet net;
  net->eval();
  EXPECT_EQ(net->forward(random_bgr(20, 30)).abs().max().item<float>(), 0.0f);
}

TEST_F(FcnAlexNetTest, PerChannelMeanEqualsAShiftedInput) {
  torch::NoGradGuard no_grad;
  FcnAlexNet scalar;
  FcnAlexNet per_channel(
      FcnAlexNetOptions().mean({104.00699, 116.66877, 122.67892}));
  torch::nn::init::normal_(scalar->score_fr->weight, 0, 0.01);
  // Same weights, different mean.
  for (auto& pair : per_channel->named_parameters()) {
    pair.value().copy_(scalar->named_parameters()[pair.key()]);
  }
  scalar->eval();
  per_channel->eval();
  const auto input = random_bgr(30, 40);
  const auto extra =
      torch::tensor({104.00699 - 116, 116.66877 - 116, 122.67892 - 116})
          .view({1, 3, 1, 1});
  const auto expected = scalar->forward(input - extra);
  EXPECT_TRUE(torch::allclose(
      per_channel->forward(input), expected, /*rtol=*/1e-4, /*atol=*/1e-4));
}

TEST_F(FcnAlexNetTest, DropoutIsElementWise) {
  torch::NoGradGuard no_grad;
  FcnAlexNet net;
  net->train();
  auto outputs = by_name(net->trace(random_bgr(375, 500)));
  const auto& before = outputs["relu6"];
  const auto& after = outputs["drop6"];
  const auto positive = before > 0;
  const auto kept = (after != 0) & positive;
  // Kept elements are scaled by 1/(1-p); dropped ones are zero.
  EXPECT_TRUE(torch::allclose(
      after.masked_select(kept), before.masked_select(kept) * 2, 1e-5, 1e-5));
  // Channel-wise dropout would keep or drop whole 12x16 maps: count the
  // channels that have both kept and dropped positive elements.
  const auto dropped = (after == 0) & positive;
  const auto mixed = (kept.flatten(2).any(2) & dropped.flatten(2).any(2))
                         .sum()
                         .item<int64_t>();
  EXPECT_GT(mixed, 1000);
  const double kept_fraction =
      kept.sum().item<double>() / positive.sum().item<double>();
  EXPECT_NEAR(kept_fraction, 0.5, 0.02);
}

TEST_F(FcnAlexNetTest, GradientsReachLearnableLayersButNotUpscore) {
  FcnAlexNet net(FcnAlexNetOptions(3));
  torch::nn::init::normal_(net->score_fr->weight, 0, 0.01);
  const auto scores = net->forward(random_bgr(33, 47));
  scores.pow(2).mean().backward();
  EXPECT_FALSE(net->upscore->weight.grad().defined());
  EXPECT_GT(net->conv1->weight.grad().abs().sum().item<double>(), 0);
  EXPECT_GT(net->score_fr->bias.grad().abs().sum().item<double>(), 0);
}

TEST_F(FcnAlexNetTest, RejectsInputsThatAreNotBgrBatches) {
  FcnAlexNet net(FcnAlexNetOptions(2));
  EXPECT_NE(
      testing::error_message_of([&] {
        net->forward(torch::rand({3, 8, 8}));
      }).find("expects N x 3 x H x W BGR images, got shape [3, 8, 8]"),
      std::string::npos);
  EXPECT_NE(
      testing::error_message_of([&] {
        net->forward(torch::zeros({1, 3, 8, 8}, torch::kUInt8));
      }).find("expects floating point input"),
      std::string::npos);
}

TEST_F(FcnAlexNetTest, RejectsBadOptions) {
  EXPECT_NE(
      testing::error_message_of([] {
        FcnAlexNet(FcnAlexNetOptions(0));
      }).find("num_classes >= 1, got 0"),
      std::string::npos);
  EXPECT_NE(
      testing::error_message_of([] {
        FcnAlexNet(FcnAlexNetOptions().mean({1, 2}));
      }).find("mean takes 1 value or 3"),
      std::string::npos);
}

TEST_F(FcnAlexNetTest, CloneKeepsWeightsAndFrozenUpscore) {
  FcnAlexNet net(FcnAlexNetOptions(4));
  auto copy = std::dynamic_pointer_cast<FcnAlexNetImpl>(net->clone());
  ASSERT_TRUE(copy);
  EXPECT_TRUE(torch::equal(copy->conv1->weight, net->conv1->weight));
  EXPECT_FALSE(copy->upscore->weight.requires_grad());
  torch::NoGradGuard no_grad;
  copy->eval();
  net->eval();
  const auto input = random_bgr(9, 11);
  EXPECT_TRUE(torch::equal(copy->forward(input), net->forward(input)));
}

} // namespace
} // namespace models
} // namespace fcnlab
