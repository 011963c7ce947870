#include <fcnlab/train/metrics.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <torch/torch.h>

#include <cmath>

namespace fcnlab {
namespace train {
namespace {

using MetricsTest = testing::SeededTest;

// Pixels for each (truth, prediction) pair of a hand-built matrix.
void add_pairs(
    ConfusionMatrix& matrix,
    const std::vector<std::array<int64_t, 3>>& pairs) {
  std::vector<int64_t> truth, prediction;
  for (const auto& [t, p, count] : pairs) {
    for (int64_t i = 0; i < count; ++i) {
      truth.push_back(t);
      prediction.push_back(p);
    }
  }
  matrix.update(torch::tensor(prediction), torch::tensor(truth));
}

TEST_F(MetricsTest, HandBuiltMatrixWithAnAbsentClass) {
  // h = [[5, 1, 0], [2, 3, 0], [0, 0, 0]]: class 2 is absent on both sides.
  ConfusionMatrix matrix(3);
  add_pairs(matrix, {{0, 0, 5}, {0, 1, 1}, {1, 0, 2}, {1, 1, 3}, {255, 2, 4}});
  EXPECT_TRUE(torch::equal(
      matrix.counts(),
      torch::tensor({5, 1, 0, 2, 3, 0, 0, 0, 0}).view({3, 3})));
  EXPECT_DOUBLE_EQ(matrix.pixel_accuracy(), 8.0 / 11);
  EXPECT_DOUBLE_EQ(matrix.mean_accuracy(), (5.0 / 6 + 3.0 / 5) / 2);
  const auto ius = matrix.class_iu();
  EXPECT_DOUBLE_EQ(ius[0], 5.0 / 8); // 5 / (6 + 7 - 5)
  EXPECT_DOUBLE_EQ(ius[1], 3.0 / 6); // 3 / (5 + 4 - 3)
  EXPECT_TRUE(std::isnan(ius[2]));
  EXPECT_DOUBLE_EQ(matrix.mean_iu(), (5.0 / 8 + 3.0 / 6) / 2);
  EXPECT_DOUBLE_EQ(
      matrix.frequency_weighted_iu(), 6.0 / 11 * 5.0 / 8 + 5.0 / 11 * 3.0 / 6);
  const auto text = matrix.to_string({"background", "cat", "dog"});
  EXPECT_NE(text.find("dog"), std::string::npos);
  EXPECT_NE(text.find("(absent)"), std::string::npos);
}

TEST_F(MetricsTest, APredictedButAbsentClassCountsAsZeroIu) {
  ConfusionMatrix matrix(2);
  add_pairs(matrix, {{0, 0, 3}, {0, 1, 1}});
  EXPECT_DOUBLE_EQ(matrix.class_iu()[1], 0.0);
  EXPECT_DOUBLE_EQ(matrix.mean_iu(), (3.0 / 4 + 0.0) / 2);
  EXPECT_DOUBLE_EQ(
      matrix.mean_accuracy(), 3.0 / 4); // class 1 has no ground truth
}

TEST_F(MetricsTest, AllIgnoredLabelsCountNothing) {
  ConfusionMatrix matrix(4);
  matrix.update(
      torch::zeros({5, 5}, torch::kLong),
      torch::full({5, 5}, 255, torch::kLong));
  EXPECT_EQ(matrix.total(), 0);
  EXPECT_TRUE(std::isnan(matrix.pixel_accuracy()));
  EXPECT_TRUE(std::isnan(matrix.mean_iu()));
}

TEST_F(MetricsTest, EqualsANaivePerPixelLoop) {
  const int64_t n = 5;
  auto truth = torch::randint(0, n, {40, 30});
  truth.masked_fill_(torch::rand({40, 30}) < 0.1, 255);
  truth[0][0] = 9; // outside [0, n): ignored too
  const auto prediction = torch::randint(0, n, {40, 30});
  ConfusionMatrix matrix(n);
  matrix.update(prediction.slice(0, 0, 20), truth.slice(0, 0, 20));
  ConfusionMatrix other(n);
  other.update(prediction.slice(0, 20), truth.slice(0, 20));
  matrix.merge(other);

  std::vector<std::vector<int64_t>> h(n, std::vector<int64_t>(n, 0));
  for (int64_t y = 0; y < 40; ++y) {
    for (int64_t x = 0; x < 30; ++x) {
      const int64_t t = truth[y][x].item<int64_t>();
      if (t >= 0 && t < n) {
        ++h[t][prediction[y][x].item<int64_t>()];
      }
    }
  }
  int64_t diagonal = 0, total = 0;
  double iu_sum = 0;
  for (int64_t c = 0; c < n; ++c) {
    int64_t row = 0, column = 0;
    for (int64_t k = 0; k < n; ++k) {
      row += h[c][k];
      column += h[k][c];
      total += h[c][k];
      EXPECT_EQ(matrix.counts()[c][k].item<int64_t>(), h[c][k]);
    }
    diagonal += h[c][c];
    iu_sum += double(h[c][c]) / double(row + column - h[c][c]);
  }
  EXPECT_DOUBLE_EQ(matrix.pixel_accuracy(), double(diagonal) / total);
  EXPECT_NEAR(matrix.mean_iu(), iu_sum / n, 1e-12);
}

TEST_F(MetricsTest, ShapesMustAgree) {
  ConfusionMatrix matrix(2);
  EXPECT_NE(
      testing::error_message_of([&] {
        matrix.update(
            torch::zeros({2, 2}, torch::kLong),
            torch::zeros({3}, torch::kLong));
      }).find("differ in shape"),
      std::string::npos);
}

} // namespace
} // namespace train
} // namespace fcnlab
