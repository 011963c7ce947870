#include <fcnlab/data/augment.h>
#include <fcnlab/data/palette.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <random>

namespace fcnlab {
namespace data {
namespace {

// A sample as OpenCV images: H x W x 3 float BGR and H x W uint8 classes.
struct MatPair {
  cv::Mat image;
  cv::Mat label;
};

MatPair to_mats(const SegmentationExample& example) {
  const auto image =
      example.data.permute({1, 2, 0}).to(at::kFloat).contiguous();
  const auto label = example.target.to(at::kByte).contiguous();
  MatPair pair;
  cv::Mat(int(image.size(0)), int(image.size(1)), CV_32FC3, image.data_ptr())
      .copyTo(pair.image);
  cv::Mat(int(label.size(0)), int(label.size(1)), CV_8U, label.data_ptr())
      .copyTo(pair.label);
  return pair;
}

SegmentationExample to_example(const MatPair& pair) {
  const auto image =
      at::from_blob(
          pair.image.data, {pair.image.rows, pair.image.cols, 3}, at::kFloat)
          .permute({2, 0, 1})
          .clone();
  const auto label =
      at::from_blob(
          pair.label.data, {pair.label.rows, pair.label.cols}, at::kByte)
          .to(at::kLong);
  return {image, label};
}

double uniform(std::mt19937_64& rng, double low, double high) {
  return std::uniform_real_distribution<double>(low, high)(rng);
}

void warp(MatPair& pair, const cv::Mat& matrix, cv::Size size) {
  const cv::Scalar mean = cv::mean(pair.image);
  cv::warpAffine(
      pair.image,
      pair.image,
      matrix,
      size,
      cv::INTER_LINEAR,
      cv::BORDER_CONSTANT,
      mean);
  cv::warpAffine(
      pair.label,
      pair.label,
      matrix,
      size,
      cv::INTER_NEAREST,
      cv::BORDER_CONSTANT,
      cv::Scalar(double(kIgnoreLabel)));
}

void rotate_by(MatPair& pair, double degrees) {
  const cv::Point2f center(pair.image.cols / 2.0f, pair.image.rows / 2.0f);
  warp(pair, cv::getRotationMatrix2D(center, degrees, 1.0), pair.image.size());
}

void crop_or_pad(MatPair& pair, int height, int width, std::mt19937_64& rng) {
  const int pad_y = std::max(0, height - pair.image.rows);
  const int pad_x = std::max(0, width - pair.image.cols);
  if (pad_y || pad_x) {
    // Where the image sits in the larger canvas is drawn too.
    const int top = std::uniform_int_distribution<int>(0, pad_y)(rng);
    const int left = std::uniform_int_distribution<int>(0, pad_x)(rng);
    const cv::Scalar mean = cv::mean(pair.image);
    cv::copyMakeBorder(
        pair.image,
        pair.image,
        top,
        pad_y - top,
        left,
        pad_x - left,
        cv::BORDER_CONSTANT,
        mean);
    cv::copyMakeBorder(
        pair.label,
        pair.label,
        top,
        pad_y - top,
        left,
        pad_x - left,
        cv::BORDER_CONSTANT,
        cv::Scalar(double(kIgnoreLabel)));
  }
  const int y =
      std::uniform_int_distribution<int>(0, pair.image.rows - height)(rng);
  const int x =
      std::uniform_int_distribution<int>(0, pair.image.cols - width)(rng);
  const cv::Rect window(x, y, width, height);
  pair.image = pair.image(window).clone();
  pair.label = pair.label(window).clone();
}

void jitter_hsv(MatPair& pair, double hue, double saturation, double value) {
  cv::Mat hsv;
  cv::Mat unit = pair.image / 255.0;
  cv::cvtColor(cv::min(cv::max(unit, 0.0), 1.0), hsv, cv::COLOR_BGR2HSV);
  std::vector<cv::Mat> channels;
  cv::split(hsv, channels); // float: H in [0, 360), S and V in [0, 1]
  channels[0] += hue;
  for (int y = 0; y < channels[0].rows; ++y) {
    auto* h = channels[0].ptr<float>(y);
    for (int x = 0; x < channels[0].cols; ++x) {
      h[x] = std::fmod(h[x] + 360.0f, 360.0f);
    }
  }
  channels[1] = cv::min(channels[1] * saturation, 1.0);
  channels[2] = cv::min(channels[2] * value, 1.0);
  cv::merge(channels, hsv);
  cv::cvtColor(hsv, pair.image, cv::COLOR_HSV2BGR);
  pair.image *= 255.0;
}

} // namespace

bool AugmentOptions::enabled() const {
  return flip() || scale_min() != 1.0 || scale_max() != 1.0 ||
      rotation() != 0 || quarter_turns() || crop_height() > 0 ||
      crop_width() > 0 || hue() != 0 || saturation() != 0 ||
      brightness() != 0 || noise() != 0;
}

void check_augment_options(const AugmentOptions& o) {
  TORCH_CHECK_VALUE(
      o.scale_min() > 0 && o.scale_min() <= o.scale_max(),
      "augmentation scale range [",
      o.scale_min(),
      ", ",
      o.scale_max(),
      "] must have 0 < min <= max");
  TORCH_CHECK_VALUE(
      o.rotation() >= 0 && o.rotation() <= 180,
      "augmentation rotation must be in [0, 180] degrees, got ",
      o.rotation());
  TORCH_CHECK_VALUE(
      o.crop_height() >= 0 && o.crop_width() >= 0 &&
          (o.crop_height() > 0) == (o.crop_width() > 0),
      "augmentation crop must be HEIGHTxWIDTH with both > 0, got ",
      o.crop_height(),
      "x",
      o.crop_width());
  TORCH_CHECK_VALUE(
      o.hue() >= 0 && o.hue() <= 180,
      "augmentation hue must be in [0, 180] degrees, got ",
      o.hue());
  TORCH_CHECK_VALUE(
      o.saturation() >= 0 && o.saturation() <= 1,
      "augmentation saturation must be in [0, 1], got ",
      o.saturation());
  TORCH_CHECK_VALUE(
      o.brightness() >= 0 && o.brightness() <= 1,
      "augmentation brightness must be in [0, 1], got ",
      o.brightness());
  TORCH_CHECK_VALUE(
      o.noise() >= 0, "augmentation noise must be >= 0, got ", o.noise());
}

uint64_t augment_seed(uint64_t seed, int64_t epoch, size_t index) {
  // splitmix64 over the three: nearby inputs give unrelated seeds.
  uint64_t z = seed ^ (uint64_t(epoch) * 0x9E3779B97F4A7C15ULL) ^
      (uint64_t(index) * 0xBF58476D1CE4E5B9ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

SegmentationExample augment(
    const SegmentationExample& example,
    const AugmentOptions& o,
    uint64_t seed) {
  if (!o.enabled()) {
    return example;
  }
  std::mt19937_64 rng(seed);
  // Every draw is made whether or not its transform is on, so that
  // switching one on does not change the draws of the others.
  const double factor = uniform(rng, o.scale_min(), o.scale_max());
  const double angle = uniform(rng, -o.rotation(), o.rotation());
  const int turns = std::uniform_int_distribution<int>(0, 3)(rng);
  const bool mirror = std::uniform_int_distribution<int>(0, 1)(rng) == 1;
  const double hue = uniform(rng, -o.hue(), o.hue());
  const double saturation = 1 + uniform(rng, -o.saturation(), o.saturation());
  const double value = 1 + uniform(rng, -o.brightness(), o.brightness());

  MatPair pair = to_mats(example);
  if (factor != 1.0) {
    const cv::Size size(
        std::max(1, int(std::lround(pair.image.cols * factor))),
        std::max(1, int(std::lround(pair.image.rows * factor))));
    cv::resize(pair.image, pair.image, size, 0, 0, cv::INTER_LINEAR);
    cv::resize(pair.label, pair.label, size, 0, 0, cv::INTER_NEAREST);
  }
  if (o.rotation() > 0 && angle != 0) {
    rotate_by(pair, angle);
  }
  if (o.quarter_turns() && turns > 0) {
    const int codes[] = {
        cv::ROTATE_90_CLOCKWISE,
        cv::ROTATE_180,
        cv::ROTATE_90_COUNTERCLOCKWISE};
    cv::rotate(pair.image, pair.image, codes[turns - 1]);
    cv::rotate(pair.label, pair.label, codes[turns - 1]);
  }
  if (o.flip() && mirror) {
    cv::flip(pair.image, pair.image, 1);
    cv::flip(pair.label, pair.label, 1);
  }
  if (o.crop_height() > 0) {
    crop_or_pad(pair, int(o.crop_height()), int(o.crop_width()), rng);
  }
  if (o.hue() != 0 || o.saturation() != 0 || o.brightness() != 0) {
    jitter_hsv(pair, hue, saturation, value);
  }
  if (o.noise() > 0) {
    cv::Mat noise(pair.image.size(), CV_32FC3);
    cv::RNG cv_rng(rng());
    cv_rng.fill(
        noise, cv::RNG::NORMAL, cv::Scalar::all(0), cv::Scalar::all(o.noise()));
    pair.image += noise;
  }
  cv::Mat clamped = cv::min(cv::max(pair.image, 0.0), 255.0);
  pair.image = clamped;
  return to_example(pair);
}

} // namespace data
} // namespace fcnlab
