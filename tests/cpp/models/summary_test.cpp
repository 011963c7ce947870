#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/models/summary.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <torch/torch.h>

namespace fcnlab {
namespace models {
namespace {

using SummaryTest = testing::SeededTest;

TEST_F(SummaryTest, ShapesEqualThoseOfARealForwardPass) {
  torch::NoGradGuard no_grad;
  FcnAlexNet net;
  net->eval();
  for (const auto& size :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {7, 9}, {375, 500}}) {
    const auto summary =
        summarize(FcnAlexNetOptions(), size.first, size.second);
    const auto trace =
        net->trace(torch::rand({1, 3, size.first, size.second}) * 255);
    ASSERT_EQ(summary.layers.size(), trace.size());
    for (size_t i = 0; i < trace.size(); ++i) {
      EXPECT_EQ(summary.layers[i].name, trace[i].first);
      EXPECT_EQ(
          torch::IntArrayRef(summary.layers[i].output_shape),
          trace[i].second.sizes().slice(1))
          << trace[i].first << " at " << size.first << "x" << size.second;
    }
  }
}

TEST_F(SummaryTest, ParameterTotalsMatchTheModule) {
  const auto summary = summarize(FcnAlexNetOptions(), 375, 500);
  EXPECT_EQ(summary.learnable_parameters, 56954261);
  EXPECT_EQ(summary.fixed_parameters, 83349);
  EXPECT_EQ(
      summary.learnable_parameters, FcnAlexNet()->num_learnable_parameters());
  EXPECT_EQ(summary.crop_offset, 18);
}

TEST_F(SummaryTest, FlopsByHand) {
  const auto summary = summarize(FcnAlexNetOptions(), 375, 500);
  auto row = [&](const std::string& name) {
    for (const auto& layer : summary.layers) {
      if (layer.name == name) {
        return layer;
      }
    }
    throw std::runtime_error("no layer " + name);
  };
  // conv1: 96 x 142 x 173 outputs, each 3 x 11 x 11 multiply-adds.
  EXPECT_DOUBLE_EQ(row("conv1").flops, 2.0 * 96 * 142 * 173 * 3 * 11 * 11);
  // conv2 is grouped: each output sees 48 of the 96 input channels.
  EXPECT_DOUBLE_EQ(row("conv2").flops, 2.0 * 256 * 71 * 86 * 48 * 5 * 5);
  EXPECT_DOUBLE_EQ(row("fc6").flops, 2.0 * 4096 * 12 * 16 * 256 * 6 * 6);
  // Every score_fr element scatters a 63x63 kernel into its own channel.
  EXPECT_DOUBLE_EQ(row("upscore").flops, 2.0 * 21 * 12 * 16 * 63 * 63);
  EXPECT_NEAR(summary.flops / 1e9, 32.5, 0.05);
}

TEST_F(SummaryTest, TextShowsShapesAndTheCropDerivation) {
  const std::string text = summarize(FcnAlexNetOptions(), 375, 500).to_string();
  EXPECT_NE(text.find("pool5     Pooling        256x17x21"), std::string::npos)
      << text;
  EXPECT_NE(text.find("x = 32*u + 13"), std::string::npos);
  EXPECT_NE(text.find("x = 1*u - 18"), std::string::npos);
  EXPECT_NE(
      text.find("learnable parameters: 56,954,261 (+83,349 fixed)"),
      std::string::npos);
  EXPECT_NE(text.find("crop score: offset 18"), std::string::npos);
}

TEST_F(SummaryTest, RejectsEmptyInputs) {
  EXPECT_NE(
      testing::error_message_of([] {
        summarize(FcnAlexNetOptions(), 0, 5);
      }).find("at least 1x1, got 0x5"),
      std::string::npos);
}

} // namespace
} // namespace models
} // namespace fcnlab
