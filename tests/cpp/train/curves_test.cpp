#include "../../../csrc/train/detail/curves.h"

#include <fcnlab/data/image_io.h>

#include "seeded_test.h"

#include <ATen/ATen.h>

#include <cmath>

namespace fcnlab {
namespace train {
namespace detail {
namespace {

using CurvesTest = testing::SeededTest;

void expect_ticks(
    const std::vector<double>& got,
    const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-9 * std::abs(want[i]) + 1e-12) << i;
  }
}

TEST_F(CurvesTest, LogAxesTickEveryDecadeAroundTheData) {
  expect_ticks(axis_ticks(3e-5, 2e-4, true), {1e-5, 1e-4, 1e-3});
  expect_ticks(axis_ticks(1e-4, 1e-4, true), {1e-4, 1e-3});
  expect_ticks(axis_ticks(1e-10, 1e-8, true), {1e-10, 1e-9, 1e-8});
}

TEST_F(CurvesTest, LinearAxesTickAtOneTwoOrFiveTimesAPowerOfTen) {
  expect_ticks(axis_ticks(0.03, 0.83, false), {0, 0.2, 0.4, 0.6, 0.8, 1.0});
  expect_ticks(axis_ticks(1, 10, false), {0, 2, 4, 6, 8, 10});
  expect_ticks(axis_ticks(0.8, 3.0, false), {0.5, 1, 1.5, 2, 2.5, 3});
  expect_ticks(axis_ticks(1, 6, false), {1, 2, 3, 4, 5, 6});
}

// Pixels of the bar color in column x of the canvas.
int bar_pixels(const cv::Mat& canvas, int x) {
  int count = 0;
  for (int y = 0; y < canvas.rows; ++y) {
    count += canvas.at<cv::Vec3b>(y, x) == cv::Vec3b(60, 160, 60);
  }
  return count;
}

TEST_F(CurvesTest, BarHeightsAreTheIuShareOfThePlot) {
  cv::Mat canvas(300, 840, CV_8UC3, cv::Scalar::all(255));
  draw_class_iu_bars(
      canvas,
      {0, 0, 840, 300},
      {"background", "cat", "dog", "cow"},
      {1.0, 0.0, 0.5, std::nan("")},
      "per class");
  // Plot: x 60..820 (190 pixels per class), height 300 - 80 = 220.
  EXPECT_EQ(bar_pixels(canvas, 60 + 95), 220);
  EXPECT_EQ(bar_pixels(canvas, 60 + 190 + 95), 0);
  EXPECT_EQ(bar_pixels(canvas, 60 + 2 * 190 + 95), 110);
  EXPECT_EQ(bar_pixels(canvas, 60 + 3 * 190 + 95), 0);
}

TEST_F(CurvesTest, ChartGainsABarPanelOnceAnEpochIsValidated) {
  EpochInfo first;
  first.epoch = 1;
  first.learning_rate = 1e-4;
  first.train_loss = 2.0;
  first.val_loss = first.val_mean_iu = std::nan("");
  EpochInfo second = first;
  second.epoch = 2;
  second.train_loss = 1.0;
  write_curves_png({first, second}, {}, path("plain.png"));
  EXPECT_EQ(data::read_image(path("plain.png")).size(0), 600);
  second.val_class_iu = {0.9, 0.1};
  write_curves_png({first, second}, {"a", "b"}, path("bars.png"));
  const auto image = data::read_image(path("bars.png"));
  EXPECT_EQ(image.size(0), 900);
  EXPECT_EQ(image.size(1), 840);
}

} // namespace
} // namespace detail
} // namespace train
} // namespace fcnlab
