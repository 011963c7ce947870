// forward() takes faster routes than the plain layers (packed oneDNN weights
// for inference, GEMMs for the fully connected layers in training, a
// separable upscore with the crop folded in). trace() runs the plain layers;
// these tests hold forward() to it.
#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/util/autocast.h>

#include "seeded_test.h"

#include <torch/torch.h>

namespace fcnlab {
namespace models {
namespace {

using ForwardPathsTest = testing::SeededTest;

torch::Tensor reference(FcnAlexNet& net, const torch::Tensor& input) {
  return net->trace(input).back().second;
}

// Norm of the difference relative to the reference's.
double norm_error(const torch::Tensor& got, const torch::Tensor& want) {
  const auto reference = want.to(torch::kFloat);
  return ((got.to(torch::kFloat) - reference).norm() / reference.norm())
      .item<double>();
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

// bfloat16 keeps 8 significant bits (a rounding error of up to 2^-9 per
// value). Scores pass 8 weighted layers, each rounding its inputs once, so
// their own error is a few parts in a thousand per layer; where oneDNN
// emulates bf16 products with AVX2 the rounding differs by about 2% per
// convolution. Tolerances below are stated against that: two bf16 passes
// within 5% (norm) of each other, either within 10% of float32. A broken
// path is off by 100% (the scores change sign or vanish).
constexpr double kBFloat16ToBFloat16 = 0.05;
constexpr double kBFloat16ToFloat32 = 0.10;

TEST_F(ForwardPathsTest, BFloat16InferenceMatchesThePlainBFloat16Layers) {
  auto net = scoring_net();
  net->eval();
  torch::NoGradGuard no_grad;
  const auto input = torch::rand({1, 3, 120, 150}) * 255;
  const auto fp32 = net->forward(input);
  const Autocast autocast(c10::DeviceType::CPU, Precision::kBFloat16);
  const auto fast = net->forward(input);
  // trace() runs the plain layers, which autocast casts one by one.
  const auto plain = reference(net, input);
  EXPECT_EQ(fast.scalar_type(), torch::kFloat); // scores leave in float32
  EXPECT_LT(norm_error(fast, plain), kBFloat16ToBFloat16);
  EXPECT_LT(norm_error(fast, fp32), kBFloat16ToFloat32);
  EXPECT_GT(norm_error(fast, fp32), 0) << "the bf16 path ran in float32";
  // The cached bf16 weights: the same pass again gives the same scores.
  EXPECT_TRUE(torch::equal(net->forward(input), fast));
}

TEST_F(ForwardPathsTest, BFloat16InferenceSeesEveryWeightChange) {
  auto net = scoring_net(5);
  net->eval();
  torch::NoGradGuard no_grad;
  const auto input = torch::rand({1, 3, 40, 60}) * 255;
  const Autocast autocast(c10::DeviceType::CPU, Precision::kBFloat16);
  const auto before = net->forward(input);
  net->fc6->weight.mul_(-1);   // packed in bf16
  net->conv2->weight.mul_(-1); // a bf16 copy
  const auto after = net->forward(input);
  EXPECT_GT(relative_error(after, before), 0.1);
  EXPECT_LT(norm_error(after, reference(net, input)), kBFloat16ToBFloat16);
}

TEST_F(ForwardPathsTest, BFloat16TrainingGradientsAreFloat32AndClose) {
  auto net = scoring_net(21, /*dropout=*/0);
  net->train();
  const auto input = torch::rand({1, 3, 30, 36}) * 255;
  const auto weights = torch::rand({1, 21, 30, 36});
  auto gradients = [&](bool bf16, bool fast) {
    {
      const Autocast autocast(
          c10::DeviceType::CPU,
          bf16 ? Precision::kBFloat16 : Precision::kFloat32);
      const auto scores = fast ? net->forward(input) : reference(net, input);
      (scores.to(torch::kFloat) * weights).sum().backward();
    }
    std::map<std::string, torch::Tensor> result;
    for (auto& pair : net->named_parameters()) {
      if (pair.value().requires_grad()) {
        result[pair.key()] = pair.value().grad().clone();
        pair.value().mutable_grad().reset();
      }
    }
    return result;
  };
  const auto fp32 = gradients(false, false);
  const auto plain = gradients(true, false);
  const auto fast = gradients(true, true);
  ASSERT_EQ(fast.size(), fp32.size());
  for (const auto& [name, gradient] : fast) {
    EXPECT_EQ(gradient.scalar_type(), torch::kFloat) << name;
    // The plain pass rounds differently: the two bf16 passes are held to
    // twice the forward pass's tolerance (the backward rounds again).
    EXPECT_LT(norm_error(gradient, plain.at(name)), 2 * kBFloat16ToBFloat16)
        << name;
    EXPECT_LT(norm_error(gradient, fp32.at(name)), 2 * kBFloat16ToFloat32)
        << name;
  }
  EXPECT_GT(norm_error(fast.at("fc6.weight"), fp32.at("fc6.weight")), 0)
      << "fc6's GEMM ran in float32";
}

} // namespace
} // namespace models
} // namespace fcnlab
