#include "dataset_view.h"

#include <fcnlab/data/image_io.h>
#include <fcnlab/data/label_io.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <filesystem>

namespace fcnlab {
namespace serve {
namespace detail {
namespace {

namespace fs = std::filesystem;

bool is_dir(const fs::path& path) {
  std::error_code error;
  return fs::is_directory(path, error);
}

bool has_image_folders(const fs::path& dir) {
  return is_dir(dir / "images") && is_dir(dir / "labels");
}

} // namespace

bool is_dataset_folder(const std::string& dir) {
  const fs::path path(dir);
  return is_dir(path / "train_db") || is_dir(path / "val_db") ||
      has_image_folders(path / "train") || has_image_folders(path);
}

DatasetView::DatasetView(std::string id, std::string name, std::string dir)
    : id_(std::move(id)), name_(std::move(name)), dir_(std::move(dir)) {}

nlohmann::json DatasetView::summary() const {
  return {{"id", id_}, {"name", name_}, {"path", dir_}};
}

void DatasetView::open() {
  if (opened_) {
    return;
  }
  if (has_image_folders(fs::path(dir_)) &&
      !has_image_folders(fs::path(dir_) / "train")) {
    data::DatasetFolders folders;
    folders.train_images = (fs::path(dir_) / "images").string();
    folders.train_labels = (fs::path(dir_) / "labels").string();
    dataset_ = data::open_dataset_folders(folders);
  } else {
    dataset_ = data::open_dataset_dir(dir_);
  }
  if (dataset_.train) {
    splits_["train"].data = dataset_.train;
  }
  if (dataset_.val) {
    splits_["val"].data = dataset_.val;
  }
  opened_ = true;
}

DatasetView::Split& DatasetView::split(const std::string& name) {
  open();
  const auto found = splits_.find(name);
  TORCH_CHECK(
      found != splits_.end(), "dataset ", name_, " has no split '", name, "'");
  return found->second;
}

void DatasetView::scan(Split& split) {
  if (split.scanned) {
    return;
  }
  const size_t count = split.data->size().value_or(0);
  split.classes.assign(count, {});
  split.class_pixels.assign(256, 0);
  for (size_t i = 0; i < count; ++i) {
    const auto label = split.data->get(i).target.flatten();
    const auto pixels = at::bincount(label, {}, 256);
    const auto* counts = pixels.data_ptr<int64_t>();
    for (int64_t c = 0; c < 256; ++c) {
      split.class_pixels[size_t(c)] += counts[c];
      if (counts[c] > 0 && c != data::kIgnoreLabel) {
        split.classes[i].push_back(c);
      }
    }
  }
  split.scanned = true;
}

nlohmann::json DatasetView::page(
    const std::string& split_name,
    int64_t offset,
    int64_t limit,
    int64_t class_filter) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& split = this->split(split_name);
  scan(split);
  nlohmann::json items = nlohmann::json::array();
  int64_t matching = 0;
  for (size_t i = 0; i < split.classes.size(); ++i) {
    const auto& classes = split.classes[i];
    if (class_filter >= 0 &&
        std::find(classes.begin(), classes.end(), class_filter) ==
            classes.end()) {
      continue;
    }
    if (matching >= offset && matching < offset + limit) {
      items.push_back(
          {{"index", i}, {"name", split.data->name(i)}, {"classes", classes}});
    }
    ++matching;
  }
  // Shares of the counted pixels (the ignored ones left out).
  int64_t counted = 0;
  for (int64_t c = 0; c < 255; ++c) {
    counted += split.class_pixels[size_t(c)];
  }
  nlohmann::json shares = nlohmann::json::array();
  nlohmann::json colors = nlohmann::json::array();
  for (size_t c = 0; c < dataset_.class_names.size(); ++c) {
    shares.push_back(
        counted ? double(split.class_pixels[c]) / double(counted) : 0.0);
    const auto& rgb = dataset_.palette[c];
    colors.push_back({rgb.r, rgb.g, rgb.b});
  }
  nlohmann::json splits = nlohmann::json::array();
  for (const auto& [name, unused] : splits_) {
    splits.push_back(name);
  }
  return {
      {"id", id_},
      {"name", name_},
      {"split", split_name},
      {"splits", splits},
      {"total", split.classes.size()},
      {"count", matching},
      {"offset", offset},
      {"items", items},
      {"class_names", dataset_.class_names},
      {"colors", colors},
      {"class_shares", shares}};
}

data::SegmentationExample DatasetView::sample(
    const std::string& split_name,
    int64_t index) {
  auto& split = this->split(split_name);
  TORCH_CHECK(
      index >= 0 && size_t(index) < split.data->size().value_or(0),
      "no sample ",
      index,
      " in ",
      name_,
      "/",
      split_name);
  return split.data->get(size_t(index));
}

std::string DatasetView::image_png(
    const std::string& split_name,
    int64_t index) {
  std::lock_guard<std::mutex> lock(mutex_);
  // The network's input layout back to an H x W x 3 picture.
  const auto chw = sample(split_name, index).data;
  return data::encode_image(
      chw.permute({1, 2, 0}).clamp(0, 255).round().to(at::kByte).contiguous(),
      "png");
}

std::string DatasetView::label_png(
    const std::string& split_name,
    int64_t index) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto label = sample(split_name, index).target.to(at::kByte);
  const auto rgb = data::colorize(label, dataset_.palette);
  const auto visible =
      ((label != 0) & (label != data::kIgnoreLabel)).to(at::kByte) * 255;
  const auto bgra =
      at::cat({rgb.flip({2}), visible.unsqueeze(2)}, 2).contiguous();
  return data::encode_image(bgra, "png");
}

} // namespace detail
} // namespace serve
} // namespace fcnlab
