// Winograd F(4x4, 3x3) for 3x3 layers in float32 inference, held to
// LibTorch's direct convolution of the same tensors.
#include "../../../csrc/models/detail/winograd_convolution.h"

#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/util/winograd.h>

#include "seeded_test.h"

#include <torch/torch.h>

namespace fcnlab {
namespace models {
namespace detail {
namespace {

class WinogradTest : public testing::SeededTest {
 protected:
  void SetUp() override {
    SeededTest::SetUp();
    if (!winograd_convolutions()) {
      GTEST_SKIP() << "this build has no oneDNN";
    }
    if (!__builtin_cpu_supports("avx512f")) {
      GTEST_SKIP() << "oneDNN's Winograd kernel needs AVX-512";
    }
  }
  void TearDown() override {
    set_winograd_convolutions(true);
    SeededTest::TearDown();
  }
};

ConvShape shape(
    const std::string& name,
    int64_t pad,
    int64_t stride = 1,
    int64_t groups = 1) {
  return ConvShape{name, {pad, pad}, {stride, stride}, {1, 1}, groups};
}

// Largest difference relative to the largest reference value.
double relative_error(const at::Tensor& got, const at::Tensor& want) {
  return (got - want).abs().max().item<double>() /
      std::max(want.abs().max().item<double>(), 1e-12);
}

// Weights and inputs at the scale of a trained VGG16 layer on ReLU output.
struct Layer {
  at::Tensor weight, bias;
  Layer(int64_t in, int64_t out)
      : weight(torch::randn({out, in, 3, 3}) * std::sqrt(2.0 / (9 * in))),
        bias(torch::randn({out}) * 0.1) {}
};

at::Tensor activations(int64_t channels, int64_t h, int64_t w) {
  return torch::relu(torch::randn({1, channels, h, w})) * 40;
}

// The direct convolution in double precision: the exact result both
// algorithms round away from.
at::Tensor exact(const at::Tensor& x, const Layer& l, int64_t pad) {
  return at::conv2d(
             x.to(at::kDouble),
             l.weight.to(at::kDouble),
             l.bias.to(at::kDouble),
             {1, 1},
             {pad, pad})
      .to(at::kFloat);
}

TEST_F(WinogradTest, MatchesTheExactConvolutionAsCloseAsTheDirectOne) {
  torch::NoGradGuard no_grad;
  WeightCache cache;
  for (const int64_t pad : {0, 1, 2}) {
    const Layer l(32, 48);
    const auto x = activations(32, 23, 29);
    const auto got = winograd_convolution(
        shape("conv" + std::to_string(pad), pad), x, l.weight, l.bias, cache);
    if (pad > 1 && !got.defined()) {
      continue; // oneDNN's kernel pads by at most 1; the direct one runs
    }
    ASSERT_TRUE(got.defined()) << "pad " << pad;
    const auto want = exact(x, l, pad);
    EXPECT_EQ(got.sizes(), want.sizes());
    EXPECT_TRUE(got.is_contiguous(at::MemoryFormat::ChannelsLast));
    const auto direct = at::conv2d(x, l.weight, l.bias, {1, 1}, {pad, pad});
    const double direct_error = relative_error(direct, want);
    // Winograd rounds more than the direct sum, but within an order of
    // magnitude of float32's 6e-8 and far below what changes a class.
    EXPECT_LT(relative_error(got, want), 1e-5) << "pad " << pad;
    EXPECT_LT(relative_error(got, want), 100 * direct_error + 1e-7);
  }
}

// Large layers run in bands of rows (about 2M output values each): 130 rows
// of 64 x 520 values make three, whose edges read their neighbours' rows.
TEST_F(WinogradTest, LargeLayersRunInBandsThatMeetExactly) {
  torch::NoGradGuard no_grad;
  WeightCache cache;
  const Layer l(64, 64);
  for (const int64_t pad : {0, 1}) {
    const auto x = activations(64, 130, 520 - 2 + 2 * (1 - pad))
                       .contiguous(at::MemoryFormat::ChannelsLast);
    const auto got = winograd_convolution(
        shape("conv" + std::to_string(pad), pad), x, l.weight, l.bias, cache);
    ASSERT_TRUE(got.defined()) << "pad " << pad;
    const auto want = at::conv2d(x, l.weight, l.bias, {1, 1}, {pad, pad});
    ASSERT_EQ(got.sizes(), want.sizes());
    // Row by row, so that a seam shows as the row it is in.
    const auto row_error =
        (got - want).abs().amax({0, 1, 3}) / want.abs().max();
    EXPECT_LT(row_error.max().item<double>(), 1e-5)
        << "pad " << pad << ", worst row "
        << row_error.argmax().item<int64_t>();
  }
}

// FCN-Alexnet's conv4 and conv5 have two groups: each runs on its own
// channels, in bands here (130 rows of 48 x 700 values make three).
TEST_F(WinogradTest, GroupedLayersRunGroupByGroup) {
  torch::NoGradGuard no_grad;
  WeightCache cache;
  const Layer l(32, 96); // 2 groups: 32 -> 48 channels each
  for (const auto& x :
       {activations(64, 130, 700).contiguous(at::MemoryFormat::ChannelsLast),
        activations(64, 21, 33)}) {
    const auto got =
        winograd_convolution(shape("g2", 1, 1, 2), x, l.weight, l.bias, cache);
    ASSERT_TRUE(got.defined());
    const auto want =
        at::conv2d(x, l.weight, l.bias, {1, 1}, {1, 1}, {1, 1}, 2);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_LT(relative_error(got, want), 1e-5);
  }
}

TEST_F(WinogradTest, TakesEitherLayoutAndNoBias) {
  torch::NoGradGuard no_grad;
  WeightCache cache;
  const Layer l(64, 32);
  const auto x = activations(64, 17, 40);
  const auto want = at::conv2d(x, l.weight, {}, {1, 1}, {1, 1});
  for (const auto& input :
       {x,
        x.contiguous(at::MemoryFormat::ChannelsLast),
        x.transpose(2, 3).contiguous().transpose(2, 3)}) {
    const auto got =
        winograd_convolution(shape("conv", 1), input, l.weight, {}, cache);
    ASSERT_TRUE(got.defined());
    EXPECT_LT(relative_error(got, want), 1e-5);
  }
}

TEST_F(WinogradTest, FollowsWeightChangesAndInputSizes) {
  torch::NoGradGuard no_grad;
  WeightCache cache;
  Layer l(32, 32);
  const auto layer = shape("conv", 1);
  for (const auto& size :
       {std::pair<int64_t, int64_t>{20, 20}, {61, 9}, {128, 96}, {20, 20}}) {
    const auto x = activations(32, size.first, size.second);
    l.weight.mul_(-1); // in place, as the solver does
    const auto got = winograd_convolution(layer, x, l.weight, l.bias, cache);
    ASSERT_TRUE(got.defined());
    EXPECT_LT(relative_error(got, exact(x, l, 1)), 1e-5)
        << size.first << "x" << size.second;
  }
}

TEST_F(WinogradTest, LeavesOtherLayersToTheDirectAlgorithm) {
  torch::NoGradGuard no_grad;
  WeightCache cache;
  const auto x = activations(32, 20, 20);
  const Layer l(32, 32);
  EXPECT_FALSE(
      winograd_convolution(shape("s2", 1, 2), x, l.weight, l.bias, cache)
          .defined());
  const Layer narrow_groups(8, 32); // 4 groups of 8 channels
  EXPECT_FALSE(winograd_convolution(
                   shape("g4", 1, 1, 4),
                   x,
                   narrow_groups.weight,
                   narrow_groups.bias,
                   cache)
                   .defined());
  const Layer rgb(3, 64);
  EXPECT_FALSE(
      winograd_convolution(
          shape("rgb", 1), activations(3, 20, 20), rgb.weight, rgb.bias, cache)
          .defined());
  const auto five = torch::randn({32, 32, 5, 5});
  EXPECT_FALSE(
      winograd_convolution(shape("5x5", 2), x, five, l.bias, cache).defined());
  EXPECT_FALSE(winograd_convolution(
                   shape("f64", 1),
                   x.to(at::kDouble),
                   l.weight.to(at::kDouble),
                   {},
                   cache)
                   .defined());
  set_winograd_convolutions(false);
  EXPECT_FALSE(winograd_convolutions());
  EXPECT_FALSE(winograd_convolution(shape("off", 1), x, l.weight, l.bias, cache)
                   .defined());
}

// FCN-8s end to end: thirteen Winograd layers in a row stay within 1e-4 of
// the direct algorithm's scores and give the same classes.
TEST_F(WinogradTest, Fcn8sScoresMatchTheDirectAlgorithm) {
  FcnNet net(builtin_net("fcn8s"));
  net->eval();
  {
    // He-scaled weights keep activations at one scale through VGG16; the
    // upsampling keeps its fixed bilinear weights.
    torch::NoGradGuard no_grad;
    for (auto& p : net->named_parameters()) {
      auto& value = p.value();
      if (p.key().rfind("up", 0) == 0) {
        continue;
      }
      if (value.dim() == 4) {
        value.normal_(0, std::sqrt(2.0 / (value[0].numel())));
      } else {
        value.normal_(0, 0.1);
      }
    }
  }
  torch::NoGradGuard no_grad;
  const auto input = torch::rand({1, 3, 64, 80}) * 255;
  const auto fast = net->forward(input);
  set_winograd_convolutions(false);
  const auto direct = net->forward(input);
  EXPECT_LT(relative_error(fast, direct), 1e-4);
  EXPECT_GT(relative_error(fast, direct), 0) << "Winograd did not run";
  const double same =
      fast.argmax(1).eq(direct.argmax(1)).to(at::kDouble).mean().item<double>();
  EXPECT_GT(same, 0.999);
}

} // namespace
} // namespace detail
} // namespace models
} // namespace fcnlab
