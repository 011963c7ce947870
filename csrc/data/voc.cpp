#include <fcnlab/data/voc.h>

#include <fcnlab/data/label_io.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace fcnlab {
namespace data {
namespace {

namespace fs = std::filesystem;

std::map<std::string, std::string> files_by_stem(
    const std::string& dir,
    const std::set<std::string>& extensions,
    const char* what) {
  TORCH_CHECK(fs::is_directory(dir), what, " folder ", dir, " does not exist");
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string extension = entry.path().extension().string();
    std::transform(
        extension.begin(), extension.end(), extension.begin(), ::tolower);
    if (entry.is_regular_file() && extensions.count(extension)) {
      const auto stem = entry.path().stem().string();
      TORCH_CHECK(
          files.emplace(stem, entry.path().string()).second,
          what,
          " folder ",
          dir,
          " holds two files named ",
          stem);
    }
  }
  TORCH_CHECK(!files.empty(), what, " folder ", dir, " holds no ", what, "s");
  return files;
}

} // namespace

void check_sample(
    const at::Tensor& image_hwc,
    const at::Tensor& label,
    int64_t num_classes,
    const std::string& name) {
  TORCH_CHECK(
      image_hwc.size(0) == label.size(0) && image_hwc.size(1) == label.size(1),
      "label ",
      name,
      " is ",
      label.size(1),
      "x",
      label.size(0),
      " but its image is ",
      image_hwc.size(1),
      "x",
      image_hwc.size(0));
  const auto bad = (label >= num_classes) & (label != kIgnoreLabel);
  if (bad.any().item<bool>()) {
    const auto where = bad.nonzero()[0];
    const int64_t y = where[0].item<int64_t>();
    const int64_t x = where[1].item<int64_t>();
    TORCH_CHECK(
        false,
        "label ",
        name,
        " has class ",
        label[y][x].item<int64_t>(),
        " at (x=",
        x,
        ", y=",
        y,
        "); the dataset has ",
        num_classes,
        " classes (and 255 = ignore)");
  }
}

VOCSegmentation::VOCSegmentation(
    const std::string& images_dir,
    const std::string& labels_dir,
    VocOptions options)
    : options_(std::move(options)) {
  const auto images = files_by_stem(
      images_dir,
      {".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm"},
      "image");
  const auto labels = files_by_stem(
      labels_dir, {".png", ".bmp", ".pgm"}, "label");
  TORCH_CHECK(
      images.size() == labels.size(),
      "image folder ",
      images_dir,
      " has ",
      images.size(),
      " images but label folder ",
      labels_dir,
      " has ",
      labels.size(),
      " labels");
  for (const auto& [stem, image] : images) {
    const auto label = labels.find(stem);
    TORCH_CHECK(
        label != labels.end(),
        "image ",
        image,
        " has no label named ",
        stem,
        ".* in ",
        labels_dir);
    images_.push_back(image);
    labels_.push_back(label->second);
  }
}

std::shared_ptr<VOCSegmentation> VOCSegmentation::prepared(
    const std::string& root,
    const std::string& split,
    VocOptions options) {
  const fs::path dir = fs::path(root) / split;
  return std::make_shared<VOCSegmentation>(
      (dir / "images").string(), (dir / "labels").string(), std::move(options));
}

SegmentationExample VOCSegmentation::get(size_t index) {
  TORCH_CHECK_INDEX(
      index < images_.size(), "sample ", index, " of ", images_.size());
  const auto image = read_image(images_[index]);
  const auto label = read_label(
      labels_[index],
      options_.colormap().empty() ? nullptr : &options_.colormap());
  check_sample(image, label, options_.num_classes(), labels_[index]);
  return {to_network_input(image), label.to(at::kLong)};
}

c10::optional<size_t> VOCSegmentation::size() const {
  return images_.size();
}

std::string VOCSegmentation::name(size_t index) const {
  return fs::path(images_.at(index)).stem().string();
}

} // namespace data
} // namespace fcnlab
