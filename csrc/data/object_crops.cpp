#include <fcnlab/data/object_crops.h>
#include <fcnlab/data/palette.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace fcnlab {
namespace data {
namespace {

struct Extent {
  int64_t top = 0, left = 0, bottom = 0, right = 0; // inclusive until done
  int64_t pixels = 0;
};

// The window of `length` centred on [first, last) within [0, limit), moved
// inside; the whole range when it does not fit.
std::pair<int64_t, int64_t> fit(double centre, double length, int64_t limit) {
  const auto side = static_cast<int64_t>(std::llround(length));
  if (side >= limit) {
    return {0, limit};
  }
  const auto start = std::clamp<int64_t>(
      static_cast<int64_t>(std::llround(centre - length / 2)), 0, limit - side);
  return {start, start + side};
}

} // namespace

std::vector<Crop> find_crops(
    const at::Tensor& labels,
    size_t source,
    const CropOptions& options) {
  TORCH_CHECK_VALUE(
      labels.dim() == 2 && labels.scalar_type() == at::kLong,
      "find_crops needs an H x W int64 label map, got ",
      labels.sizes());
  const int64_t height = labels.size(0), width = labels.size(1);
  const auto values = labels.contiguous();
  const auto* pixel = values.data_ptr<int64_t>();
  std::array<Extent, kIgnoreLabel> extents{};
  for (int64_t y = 0; y < height; ++y) {
    for (int64_t x = 0; x < width; ++x) {
      const int64_t label = pixel[y * width + x];
      if (label <= 0 || label >= kIgnoreLabel) {
        continue;
      }
      Extent& e = extents[label];
      if (e.pixels++ == 0) {
        e = {y, x, y, x, 1};
      }
      e.top = std::min(e.top, y);
      e.bottom = std::max(e.bottom, y);
      e.left = std::min(e.left, x);
      e.right = std::max(e.right, x);
    }
  }

  std::vector<Crop> crops;
  auto add = [&](Crop crop) {
    crops.push_back(crop);
    if (options.mirror()) {
      crop.mirrored = true;
      crops.push_back(crop);
    }
  };
  for (int64_t label = 1; label < kIgnoreLabel; ++label) {
    const Extent& e = extents[label];
    if (e.pixels == 0 || e.pixels < options.min_pixels()) {
      continue;
    }
    const double longer = std::max(e.bottom - e.top, e.right - e.left) + 1.0;
    const double side = longer * (1 + 2 * options.context());
    const auto rows = fit((e.top + e.bottom + 1) / 2.0, side, height);
    const auto cols = fit((e.left + e.right + 1) / 2.0, side, width);
    add({source, label, rows.first, cols.first, rows.second, cols.second});
  }

  if (options.background()) {
    const int64_t side = std::max<int64_t>(1, std::min(height, width) / 2);
    const std::array<std::pair<int64_t, int64_t>, 5> corners{{
        {0, 0},
        {0, width - side},
        {height - side, 0},
        {height - side, width - side},
        {(height - side) / 2, (width - side) / 2},
    }};
    int64_t best = -1;
    std::pair<int64_t, int64_t> where;
    for (const auto& [top, left] : corners) {
      const int64_t background =
          (values.slice(0, top, top + side).slice(1, left, left + side) == 0)
              .sum()
              .item<int64_t>();
      if (background > best) {
        best = background;
        where = {top, left};
      }
    }
    if (best >= options.background_share() * double(side * side)) {
      add(
          {source,
           0,
           where.first,
           where.second,
           where.first + side,
           where.second + side});
    }
  }
  return crops;
}

ObjectCrops::ObjectCrops(
    std::shared_ptr<SegmentationDataset> source,
    CropOptions options)
    : source_(std::move(source)), options_(std::move(options)) {
  TORCH_CHECK_VALUE(source_, "ObjectCrops needs a dataset");
  TORCH_CHECK_VALUE(
      options_.side() >= 1, "crop side must be >= 1, got ", options_.side());
  TORCH_CHECK_VALUE(
      options_.context() >= 0,
      "crop context must be >= 0, got ",
      options_.context());
  const size_t count = source_->size().value();
  for (size_t i = 0; i < count; ++i) {
    const auto found = find_crops(source_->get(i).target, i, options_);
    crops_.insert(crops_.end(), found.begin(), found.end());
  }
  TORCH_CHECK(
      !crops_.empty(),
      "no object of at least ",
      options_.min_pixels(),
      " pixels and no background window in ",
      count,
      " samples",
      count ? " (the first is " + source_->name(0) + ")" : std::string());
}

SegmentationExample ObjectCrops::get(size_t index) {
  const Crop& crop = crops_.at(index);
  const auto example = source_->get(crop.source);
  const auto region = example.data.slice(1, crop.top, crop.bottom)
                          .slice(2, crop.left, crop.right)
                          .unsqueeze(0);
  auto image = at::upsample_bilinear2d(
                   region,
                   {options_.side(), options_.side()},
                   /*align_corners=*/false)
                   .squeeze(0);
  if (crop.mirrored) {
    image = image.flip({2});
  }
  return {image.contiguous(), at::full({1, 1}, crop.label, at::kLong)};
}

c10::optional<size_t> ObjectCrops::size() const {
  return crops_.size();
}

std::string ObjectCrops::name(size_t index) const {
  const Crop& crop = crops_.at(index);
  return source_->name(crop.source) + ":" + std::to_string(crop.label) +
      (crop.mirrored ? ":mirrored" : "");
}

} // namespace data
} // namespace fcnlab
