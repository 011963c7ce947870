#include <fcnlab/data/synthetic.h>

#include "../util/detail/tar.h"

#include <fcnlab/data/label_io.h>
#include <fcnlab/data/palette.h>
#include <fcnlab/data/sbd.h>
#include <fcnlab/util/atomic_file.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

namespace fcnlab {
namespace data {
namespace {

constexpr const char* kRoot = "VOCdevkit/VOC2012/";

// VOC's common sizes (height, width) and a few odd ones.
constexpr int kSizes[][2] = {
    {375, 500},
    {500, 375},
    {333, 500},
    {500, 333},
    {375, 500},
    {500, 375},
    {281, 500},
    {486, 500},
    {480, 354},
    {366, 500}};

enum class Shape { kEllipse, kRectangle, kTriangle };
enum class Texture { kSolid, kHorizontalStripes, kVerticalStripes, kChecker };

struct ClassLook {
  cv::Scalar color; // BGR
  Shape shape;
  Texture texture;
};

// Class c gets a hue of its own around the color wheel, one of three shapes
// and one of four textures: no two classes share all three.
ClassLook look_of(int label) {
  const int hue = ((label - 1) * 9) % 180; // OpenCV hue: 0..179
  const int value = label % 2 ? 235 : 170;
  cv::Mat hsv(1, 1, CV_8UC3, cv::Scalar(hue, 230, value));
  cv::Mat bgr;
  cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
  const auto pixel = bgr.at<cv::Vec3b>(0, 0);
  return {
      cv::Scalar(pixel[0], pixel[1], pixel[2]),
      static_cast<Shape>(label % 3),
      static_cast<Texture>((label / 3) % 4)};
}

cv::Mat textured_background(int height, int width, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> tone(70, 150);
  const cv::Scalar base(tone(rng), tone(rng), tone(rng));
  cv::Mat background(height, width, CV_32FC3, base);
  // A gentle gradient plus pixel noise, like an unfocused scene.
  for (int y = 0; y < height; ++y) {
    background.row(y) += cv::Scalar::all(30.0 * y / height - 15.0);
  }
  cv::Mat noise(height, width, CV_32FC3);
  cv::RNG cv_rng(rng());
  cv_rng.fill(noise, cv::RNG::NORMAL, cv::Scalar::all(0), cv::Scalar::all(14));
  background += noise;
  cv::Mat out;
  background.convertTo(out, CV_8UC3);
  return out;
}

cv::Mat shape_mask(int height, int width, Shape shape, std::mt19937_64& rng) {
  const int side = std::min(height, width);
  std::uniform_int_distribution<int> extent(side / 5, side * 9 / 20);
  const int rx = std::max(2, extent(rng));
  const int ry = std::max(2, extent(rng));
  std::uniform_int_distribution<int> cx(
      rx / 2, std::max(rx / 2, width - rx / 2));
  std::uniform_int_distribution<int> cy(
      ry / 2, std::max(ry / 2, height - ry / 2));
  const cv::Point center(cx(rng), cy(rng));
  cv::Mat mask = cv::Mat::zeros(height, width, CV_8U);
  switch (shape) {
    case Shape::kEllipse:
      cv::ellipse(mask, center, cv::Size(rx, ry), 0, 0, 360, 255, cv::FILLED);
      break;
    case Shape::kRectangle:
      cv::rectangle(
          mask,
          center - cv::Point(rx, ry),
          center + cv::Point(rx, ry),
          255,
          cv::FILLED);
      break;
    case Shape::kTriangle: {
      const std::vector<cv::Point> corners = {
          center + cv::Point(0, -ry),
          center + cv::Point(rx, ry),
          center + cv::Point(-rx, ry)};
      cv::fillConvexPoly(mask, corners, 255);
      break;
    }
  }
  return mask;
}

cv::Mat texture_layer(
    int height,
    int width,
    const ClassLook& look,
    int period) {
  cv::Mat layer(height, width, CV_8UC3, look.color);
  const cv::Scalar dark = look.color * 0.45;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const bool stripe_y = (y / period) % 2;
      const bool stripe_x = (x / period) % 2;
      bool dark_here = false;
      switch (look.texture) {
        case Texture::kSolid:
          break;
        case Texture::kHorizontalStripes:
          dark_here = stripe_y;
          break;
        case Texture::kVerticalStripes:
          dark_here = stripe_x;
          break;
        case Texture::kChecker:
          dark_here = stripe_x != stripe_y;
          break;
      }
      if (dark_here) {
        layer.at<cv::Vec3b>(y, x) =
            cv::Vec3b(uchar(dark[0]), uchar(dark[1]), uchar(dark[2]));
      }
    }
  }
  return layer;
}

struct Sample {
  std::string jpeg;
  std::string png;
  at::Tensor classes; ///< without VOC's 255 outlines (as SBD has none)
};

Sample make_sample(int height, int width, double scale, std::mt19937_64& rng) {
  cv::Mat image = textured_background(height, width, rng);
  cv::Mat label = cv::Mat::zeros(height, width, CV_8U);
  std::uniform_int_distribution<int> object_count(1, 3);
  std::uniform_int_distribution<int> class_of(1, 20);
  const int period = std::max(2, static_cast<int>(std::lround(8 * scale)));
  for (int i = object_count(rng); i > 0; --i) {
    const int label_value = class_of(rng);
    const ClassLook look = look_of(label_value);
    const cv::Mat mask = shape_mask(height, width, look.shape, rng);
    texture_layer(height, width, look, period).copyTo(image, mask);
    label.setTo(label_value, mask);
  }
  const cv::Mat classes = label.clone();
  // VOC marks object outlines as 255 ("void"), about 5 pixels wide.
  const int radius = std::max(1, static_cast<int>(std::lround(2 * scale)));
  const cv::Mat kernel = cv::getStructuringElement(
      cv::MORPH_RECT, cv::Size(2 * radius + 1, 2 * radius + 1));
  cv::Mat highest, lowest;
  cv::dilate(label, highest, kernel);
  cv::erode(label, lowest, kernel);
  label.setTo(kIgnoreLabel, highest != lowest);

  std::vector<uchar> jpeg;
  cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, 90});
  const auto label_tensor =
      at::from_blob(label.data, {height, width}, at::kByte);
  return {
      std::string(jpeg.begin(), jpeg.end()),
      encode_label_png(label_tensor, voc_palette()),
      at::from_blob(classes.data, {height, width}, at::kByte).clone()};
}

std::string id_of(const char* prefix, int64_t index) {
  char id[32];
  std::snprintf(
      id, sizeof(id), "%s_%06lld", prefix, static_cast<long long>(index));
  return id;
}

void check_synthetic_options(const SynthVocOptions& options) {
  TORCH_CHECK_VALUE(
      options.images() >= 2,
      "synth-voc needs at least 2 images, got ",
      options.images());
  TORCH_CHECK_VALUE(
      options.max_side() >= 16,
      "synth-voc needs max_side >= 16, got ",
      options.max_side());
  TORCH_CHECK_VALUE(
      options.val_fraction() > 0 && options.val_fraction() < 1,
      "synth-voc val_fraction must be in (0, 1), got ",
      options.val_fraction());
}

// Calls `write(id, sample, is_val)` for each sample of the options.
template <typename Write>
void for_each_sample(const SynthVocOptions& options, Write&& write) {
  std::mt19937_64 rng(options.seed());
  const double scale = static_cast<double>(options.max_side()) / 500.0;
  const int64_t val_count = std::max<int64_t>(
      1, std::llround(options.images() * options.val_fraction()));
  std::uniform_int_distribution<size_t> size_of(0, std::size(kSizes) - 1);
  for (int64_t i = 0; i < options.images(); ++i) {
    const auto& size = kSizes[size_of(rng)];
    const int height = std::max(8, int(std::lround(size[0] * scale)));
    const int width = std::max(8, int(std::lround(size[1] * scale)));
    write(
        id_of("synth", i + 1),
        make_sample(height, width, scale, rng),
        i >= options.images() - val_count);
  }
}

} // namespace

void write_synthetic_sbd(
    const std::string& tar_path,
    const SynthVocOptions& options) {
  check_synthetic_options(options);
  constexpr const char* kDataset = "benchmark_RELEASE/dataset/";
  util::detail::TarWriter tar(tar_path);
  std::string train_list, val_list;
  const std::string scratch = tar_path + ".mat.tmp";
  for_each_sample(
      options, [&](const std::string& id, const Sample& sample, bool val) {
        tar.add(std::string(kDataset) + "img/" + id + ".jpg", sample.jpeg);
        write_sbd_label(scratch, sample.classes);
        tar.add(
            std::string(kDataset) + "cls/" + id + ".mat",
            util::read_file(scratch, "MAT file"));
        (val ? val_list : train_list) += id + "\n";
      });
  std::filesystem::remove(scratch);
  tar.add(std::string(kDataset) + "train.txt", train_list);
  tar.add(std::string(kDataset) + "val.txt", val_list);
  tar.close();
}

void write_synthetic_voc(
    const std::string& tar_path,
    const SynthVocOptions& options) {
  check_synthetic_options(options);
  util::detail::TarWriter tar(tar_path);
  std::string train_list, val_list;
  std::mt19937_64 rng(options.seed() + 1); // the extra images' draws
  for_each_sample(
      options, [&](const std::string& id, const Sample& sample, bool val) {
        tar.add(std::string(kRoot) + "JPEGImages/" + id + ".jpg", sample.jpeg);
        tar.add(
            std::string(kRoot) + "SegmentationClass/" + id + ".png",
            sample.png);
        (val ? val_list : train_list) += id + "\n";
      });
  // Images outside the segmentation lists, as VOC has thousands of.
  for (int64_t i = 0; i < 3; ++i) {
    const Sample extra = make_sample(40, 50, 0.1, rng);
    tar.add(
        std::string(kRoot) + "JPEGImages/" + id_of("other", i + 1) + ".jpg",
        extra.jpeg);
  }
  tar.add(std::string(kRoot) + "ImageSets/Segmentation/train.txt", train_list);
  tar.add(std::string(kRoot) + "ImageSets/Segmentation/val.txt", val_list);
  tar.close();
}

} // namespace data
} // namespace fcnlab
