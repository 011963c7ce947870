#include <fcnlab/data/explore.h>

#include <fcnlab/data/image_io.h>
#include <fcnlab/data/label_io.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <sstream>

namespace fcnlab {
namespace data {
namespace {

cv::Mat as_mat(const at::Tensor& hwc) {
  return cv::Mat(
      int(hwc.size(0)), int(hwc.size(1)), CV_8UC3, hwc.data_ptr<uint8_t>());
}

} // namespace

DatasetStats dataset_stats(SegmentationDataset& dataset) {
  DatasetStats stats;
  stats.entries = dataset.size().value();
  for (size_t i = 0; i < stats.entries; ++i) {
    const auto example = dataset.get(i);
    ++stats.sizes[{example.target.size(0), example.target.size(1)}];
    const auto counts = at::bincount(example.target.flatten(), {}, 256);
    const auto* values = counts.data_ptr<int64_t>();
    for (size_t c = 0; c < 256; ++c) {
      stats.class_pixels[c] += values[c];
    }
  }
  return stats;
}

std::string DatasetStats::to_string(
    const std::vector<std::string>& class_names) const {
  std::ostringstream out;
  out << "entries: " << entries << "\nimage sizes (HxW):\n";
  for (const auto& [size, count] : sizes) {
    out << "  " << size.first << "x" << size.second << ": " << count << "\n";
  }
  int64_t total = 0;
  for (const int64_t pixels : class_pixels) {
    total += pixels;
  }
  out << "class pixel frequencies:\n";
  char line[128];
  for (size_t c = 0; c < class_pixels.size(); ++c) {
    if (class_pixels[c] == 0 && c >= class_names.size()) {
      continue;
    }
    const std::string name = c == 255 ? "(ignore)"
        : c < class_names.size()      ? class_names[c]
                                      : "class " + std::to_string(c);
    std::snprintf(
        line,
        sizeof(line),
        "  %3zu %-14s %12lld  %6.2f%%\n",
        c,
        name.c_str(),
        static_cast<long long>(class_pixels[c]),
        total ? 100.0 * class_pixels[c] / total : 0.0);
    out << line;
  }
  return out.str();
}

void write_montage(
    SegmentationDataset& dataset,
    const std::string& path,
    size_t count,
    const Palette& palette,
    int64_t tile_height,
    const AugmentOptions& augment_options,
    uint64_t seed) {
  check_augment_options(augment_options);
  TORCH_CHECK_VALUE(count >= 1 && tile_height >= 8, "montage needs count >= 1");
  count = std::min(count, dataset.size().value());
  std::vector<cv::Mat> rows;
  int width = 0;
  for (size_t i = 0; i < count; ++i) {
    const auto example =
        augment(dataset.get(i), augment_options, augment_seed(seed, 0, i));
    const auto image =
        example.data.permute({1, 2, 0}).to(at::kByte).contiguous();
    // colorize() gives RGB; the montage is written as BGR.
    const auto label =
        colorize(example.target.to(at::kByte), palette).flip({2}).contiguous();
    const int tile_width = static_cast<int>(
        tile_height * image.size(1) / std::max<int64_t>(1, image.size(0)));
    cv::Mat left, right, row;
    cv::resize(
        as_mat(image),
        left,
        {tile_width, int(tile_height)},
        0,
        0,
        cv::INTER_AREA);
    cv::resize(
        as_mat(label),
        right,
        {tile_width, int(tile_height)},
        0,
        0,
        cv::INTER_NEAREST);
    cv::hconcat(
        std::vector<cv::Mat>{
            left,
            cv::Mat(int(tile_height), 4, CV_8UC3, cv::Scalar::all(255)),
            right},
        row);
    width = std::max(width, row.cols);
    rows.push_back(row);
  }
  cv::Mat montage(
      int(rows.size() * (tile_height + 4)),
      width,
      CV_8UC3,
      cv::Scalar::all(255));
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].copyTo(montage(
        cv::Rect(0, int(i * (tile_height + 4)), rows[i].cols, rows[i].rows)));
  }
  auto tensor =
      at::from_blob(montage.data, {montage.rows, montage.cols, 3}, at::kByte);
  write_image(tensor, path);
}

} // namespace data
} // namespace fcnlab
