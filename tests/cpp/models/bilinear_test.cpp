#include <fcnlab/models/bilinear.h>
#include <fcnlab/models/coord_map.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <torch/torch.h>

#include <cmath>

namespace fcnlab {
namespace models {
namespace {

using BilinearTest = testing::SeededTest;

// The kernel written straight from the formula, one weight at a time.
double formula_weight(int64_t size, int64_t y, int64_t x) {
  const double f = std::ceil(size / 2.0);
  const double c = (size - 1) / (2.0 * f);
  return (1 - std::abs(x / f - c)) * (1 - std::abs(y / f - c));
}

TEST_F(BilinearTest, MatchesTheFormulaForEvenAndOddSizes) {
  for (const int64_t size : {4, 63, 64}) {
    const auto kernel = bilinear_kernel(size);
    ASSERT_EQ(kernel.sizes(), torch::IntArrayRef({size, size}));
    ASSERT_EQ(kernel.scalar_type(), torch::kFloat);
    auto values = kernel.accessor<float, 2>();
    for (int64_t y = 0; y < size; ++y) {
      for (int64_t x = 0; x < size; ++x) {
        ASSERT_NEAR(values[y][x], formula_weight(size, y, x), 1e-6)
            << "size " << size << " at " << y << "," << x;
      }
    }
  }
}

TEST_F(BilinearTest, SizeFourByHand) {
  // f = 2, c = 3/4: the profile is 1/4, 3/4, 3/4, 1/4.
  const auto profile = torch::tensor({0.25f, 0.75f, 0.75f, 0.25f});
  EXPECT_TRUE(torch::equal(bilinear_kernel(4), torch::outer(profile, profile)));
}

TEST_F(BilinearTest, SixtyThreeHasItsPeakAtThirtyOne) {
  const auto kernel = bilinear_kernel(63);
  EXPECT_FLOAT_EQ(kernel[31][31].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(kernel[31][0].item<float>(), 1.0f / 32.0f);
}

TEST_F(BilinearTest, UpsamplingWeightRepeatsTheKernelPerChannel) {
  const auto weight = bilinear_upsampling_weight(21, 63);
  ASSERT_EQ(weight.sizes(), torch::IntArrayRef({21, 1, 63, 63}));
  EXPECT_TRUE(torch::equal(weight[20][0], bilinear_kernel(63)));
}

TEST_F(BilinearTest, UpsamplingARampReproducesItAwayFromTheBorders) {
  struct Case {
    int64_t kernel, stride, pad;
  };
  // FCN-Alexnet's upscore (63/32), FCN's even kernels (2s with pad s/2).
  for (const Case c : {Case{63, 32, 0}, Case{64, 32, 16}, Case{4, 2, 1}}) {
    const int64_t size = 6;
    const auto rows = torch::arange(size, torch::kFloat).view({size, 1});
    const auto cols = torch::arange(size, torch::kFloat).view({1, size});
    const auto ramp = (rows + 2 * cols).view({1, 1, size, size});
    const auto up = torch::conv_transpose2d(
        ramp,
        bilinear_upsampling_weight(1, c.kernel),
        /*bias=*/{},
        /*stride=*/c.stride,
        /*padding=*/c.pad);
    // Each output position u lies over input position map(u); interpolating
    // a linear ramp must give the ramp's value there.
    const CoordMap map = coord_map(LayerGeometry{
        "up", LayerKind::kDeconvolution, c.kernel, c.stride, c.pad});
    auto out = up.accessor<float, 4>();
    int checked = 0;
    for (int64_t v = 0; v < up.size(2); ++v) {
      for (int64_t u = 0; u < up.size(3); ++u) {
        const double y = map(v), x = map(u);
        if (y < 0 || x < 0 || y > size - 1 || x > size - 1) {
          continue; // the kernel is cut off at the borders
        }
        ASSERT_NEAR(out[0][0][v][u], y + 2 * x, 1e-4)
            << "kernel " << c.kernel << " at " << v << "," << u;
        ++checked;
      }
    }
    EXPECT_GT(checked, 10) << "kernel " << c.kernel;
  }
}

TEST_F(BilinearTest, RejectsSizesBelowOne) {
  EXPECT_NE(
      testing::error_message_of([] {
        bilinear_kernel(0);
      }).find("bilinear kernel size must be >= 1, got 0"),
      std::string::npos);
}

} // namespace
} // namespace models
} // namespace fcnlab
