#include <fcnlab/data/lmdb_db.h>

#include "detail/datum.h"
#include "detail/directory.h"
#include "detail/lmdb.h"

#include <fcnlab/data/label_io.h>
#include <fcnlab/data/palette.h>
#include <fcnlab/util/atomic_file.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>

namespace fcnlab {
namespace data {
namespace {

namespace fs = std::filesystem;

struct PathPair {
  std::string image;
  std::string label;
};

struct Encoded {
  std::string feature;
  std::string label;
  std::string error; // non-empty when the sample is bad
};

std::vector<PathPair> list_pairs(
    const std::string& images,
    const std::string& labels) {
  VOCSegmentation folders(images, labels);
  std::vector<PathPair> pairs;
  for (size_t i = 0; i < *folders.size(); ++i) {
    pairs.push_back({folders.image_path(i), folders.label_path(i)});
  }
  return pairs;
}

at::Tensor resized(
    const at::Tensor& hwc,
    int64_t width,
    int64_t height,
    int interpolation) {
  const auto source = hwc.contiguous();
  const int channels = static_cast<int>(hwc.size(2));
  const cv::Mat in(
      int(hwc.size(0)),
      int(hwc.size(1)),
      CV_8UC(channels),
      source.data_ptr<uint8_t>());
  auto out = at::empty({height, width, hwc.size(2)}, at::kByte);
  cv::Mat view(
      int(height), int(width), CV_8UC(channels), out.data_ptr<uint8_t>());
  cv::resize(in, view, view.size(), 0, 0, interpolation);
  return out;
}

std::string datum_bytes(const at::Tensor& hwc, Encoding encoding) {
  return detail::encode_datum(
      hwc,
      encoding == Encoding::kNone      ? ""
          : encoding == Encoding::kPng ? "png"
                                       : "jpg");
}

Encoded encode_sample(
    const PathPair& pair,
    const CreateDbOptions& options,
    const std::vector<Rgb>* colormap,
    int64_t num_classes) {
  try {
    auto image = read_image(pair.image, options.channel_conversion);
    auto label = read_label(pair.label, colormap);
    check_sample(image, label, num_classes, pair.label);
    auto label_hwc = label.unsqueeze(2);
    if (options.resize_width > 0 && options.resize_height > 0) {
      image = resized(
          image, options.resize_width, options.resize_height, cv::INTER_LINEAR);
      label_hwc = resized(
          label_hwc,
          options.resize_width,
          options.resize_height,
          cv::INTER_NEAREST);
    }
    return {
        datum_bytes(image, options.feature_encoding),
        datum_bytes(label_hwc, options.label_encoding),
        ""};
  } catch (const c10::Error& error) {
    return {"", "", error.what_without_backtrace()};
  }
}

std::string key_of(size_t index) {
  char key[16];
  std::snprintf(key, sizeof(key), "%09zu", index);
  return key;
}

// Encodes `pairs` on worker threads, in chunks, and writes them in order.
size_t write_split(
    const std::vector<PathPair>& pairs,
    const fs::path& dir,
    const CreateDbOptions& options,
    const std::vector<Rgb>* colormap,
    int64_t num_classes,
    CreateDbReport& report,
    const std::function<void()>& advance) {
  detail::LmdbWriter features((dir / "features").string());
  detail::LmdbWriter labels((dir / "labels").string());
  const size_t workers = static_cast<size_t>(std::max(1, options.workers));
  const size_t chunk = 16 * workers;
  size_t written = 0;
  for (size_t start = 0; start < pairs.size(); start += chunk) {
    const size_t end = std::min(pairs.size(), start + chunk);
    std::vector<Encoded> encoded(end - start);
    std::vector<std::thread> threads;
    for (size_t w = 0; w < workers; ++w) {
      threads.emplace_back([&, w] {
        for (size_t i = start + w; i < end; i += workers) {
          encoded[i - start] =
              encode_sample(pairs[i], options, colormap, num_classes);
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    for (size_t i = 0; i < encoded.size(); ++i) {
      auto& sample = encoded[i];
      if (!sample.error.empty()) {
        TORCH_CHECK(options.skip_bad, sample.error);
        report.skipped.push_back(
            fs::path(pairs[start + i].image).filename().string() + ": " +
            sample.error);
      } else {
        features.put(key_of(written), std::move(sample.feature));
        labels.put(key_of(written), std::move(sample.label));
        ++written;
      }
      advance();
    }
  }
  features.flush();
  labels.flush();
  return written;
}

} // namespace

Encoding parse_encoding(const std::string& text) {
  if (text == "png") {
    return Encoding::kPng;
  }
  if (text == "jpg" || text == "jpeg") {
    return Encoding::kJpg;
  }
  TORCH_CHECK_VALUE(
      text == "none", "encoding must be png, jpg or none, got ", text);
  return Encoding::kNone;
}

CreateDbReport create_db(
    const CreateDbOptions& options,
    const Progress& progress) {
  TORCH_CHECK_VALUE(
      !options.out_dir.empty(), "create-db needs an output directory");
  TORCH_CHECK_VALUE(
      options.label_encoding != Encoding::kJpg,
      "labels cannot be JPEG-encoded: lossy compression changes class indices");
  std::vector<PathPair> train =
      list_pairs(options.train_images, options.train_labels);
  std::vector<PathPair> val;
  if (!options.val_images.empty() || !options.val_labels.empty()) {
    val = list_pairs(options.val_images, options.val_labels);
  } else if (options.val_percent > 0) {
    TORCH_CHECK_VALUE(
        options.val_percent < 100,
        "val percent must be below 100, got ",
        options.val_percent);
    std::mt19937_64 rng(options.seed);
    std::shuffle(train.begin(), train.end(), rng);
    const auto held_out = static_cast<size_t>(
        std::max(1.0, std::round(train.size() * options.val_percent / 100.0)));
    TORCH_CHECK_VALUE(
        held_out < train.size(),
        "val percent ",
        options.val_percent,
        " leaves no training samples out of ",
        train.size());
    val.assign(
        train.end() - static_cast<std::ptrdiff_t>(held_out), train.end());
    train.resize(train.size() - held_out);
  }

  const auto class_names = options.classes_file.empty()
      ? voc_class_names()
      : read_class_names(options.classes_file);
  std::vector<Rgb> colormap;
  Palette palette = voc_palette();
  if (options.colormap != "label") {
    colormap = read_colormap(options.colormap);
    palette = palette_from_colors(colormap);
  }

  detail::StagingDirectory staging(options.out_dir);
  CreateDbReport report;
  size_t done = 0;
  const size_t total = train.size() + val.size();
  auto advance = [&] {
    if (progress) {
      progress(++done, total);
    }
  };
  const std::vector<Rgb>* map = colormap.empty() ? nullptr : &colormap;
  const auto num_classes = static_cast<int64_t>(class_names.size());
  report.train = write_split(
      train,
      staging.path() / "train_db",
      options,
      map,
      num_classes,
      report,
      advance);
  if (!val.empty()) {
    report.val = write_split(
        val,
        staging.path() / "val_db",
        options,
        map,
        num_classes,
        report,
        advance);
  }
  write_class_names(class_names, (staging.path() / "classes.txt").string());
  write_colormap(
      palette, class_names.size(), (staging.path() / "palette.txt").string());
  if (!report.skipped.empty()) {
    std::string text;
    for (const auto& line : report.skipped) {
      text += line + "\n";
    }
    util::write_file_atomically(
        (staging.path() / "skipped.txt").string(), text);
  }
  staging.commit();
  return report;
}

LmdbSegmentation::LmdbSegmentation(
    const std::string& db_dir,
    int64_t num_classes)
    : dir_(db_dir), num_classes_(num_classes) {
  TORCH_CHECK(
      fs::is_directory(fs::path(db_dir) / "features") &&
          fs::is_directory(fs::path(db_dir) / "labels"),
      "dataset ",
      db_dir,
      " has no features/ and labels/ databases");
  features_ = std::make_shared<const detail::LmdbReader>(
      (fs::path(db_dir) / "features").string());
  labels_ = std::make_shared<const detail::LmdbReader>(
      (fs::path(db_dir) / "labels").string());
  keys_ = features_->keys();
  const auto label_keys = labels_->keys();
  TORCH_CHECK(
      keys_ == label_keys,
      "dataset ",
      db_dir,
      ": features hold ",
      keys_.size(),
      " entries and labels ",
      label_keys.size(),
      ", with different keys");
  TORCH_CHECK(!keys_.empty(), "dataset ", db_dir, " is empty");
}

SegmentationExample LmdbSegmentation::get(size_t index) {
  TORCH_CHECK_INDEX(
      index < keys_.size(), "sample ", index, " of ", keys_.size());
  const std::string& key = keys_[index];
  const std::string feature_where = dir_ + "/features[" + key + "]";
  const std::string label_where = dir_ + "/labels[" + key + "]";
  auto image = detail::decode_datum(features_->get(key), feature_where, false);
  if (image.size(2) == 1) {
    image = image.expand({-1, -1, 3});
  }
  auto label = detail::decode_datum(labels_->get(key), label_where, true);
  TORCH_CHECK(
      label.size(2) == 1,
      "lmdb ",
      label_where,
      " has ",
      label.size(2),
      " channels; labels must have one");
  label = label.squeeze(2);
  check_sample(image, label, num_classes_, label_where);
  return {to_network_input(image), label.to(at::kLong)};
}

c10::optional<size_t> LmdbSegmentation::size() const {
  return keys_.size();
}

std::string LmdbSegmentation::name(size_t index) const {
  return keys_.at(index);
}

} // namespace data
} // namespace fcnlab
