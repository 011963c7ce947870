#pragma once

#include <fcnlab/data/image_io.h>
#include <fcnlab/data/palette.h>

#include <torch/arg.h>
#include <torch/data/datasets/base.h>
#include <torch/data/example.h>

#include <memory>
#include <string>
#include <vector>

namespace fcnlab {
namespace data {

/// data: image 3 x H x W float32, BGR, 0..255 (FCN-Alexnet's input);
/// target: label H x W int64 class indices, 255 = ignore. Native size.
using SegmentationExample = torch::data::Example<at::Tensor, at::Tensor>;

/// What fcnlab's Loader, trainer and tools need of a dataset of images with
/// per-pixel labels. The concrete datasets are also LibTorch datasets
/// (torch::data::datasets::Dataset), so they work with .map() and
/// torch::data::make_data_loader too.
class SegmentationDataset {
 public:
  virtual ~SegmentationDataset() = default;
  virtual SegmentationExample get(size_t index) = 0;
  virtual c10::optional<size_t> size() const = 0;
  /// A name for sample `index` (file basename or database key).
  virtual std::string name(size_t index) const = 0;
};

/// Options of a folder-backed segmentation dataset.
struct VocOptions {
  /// Labels must hold classes < num_classes (or 255).
  TORCH_ARG(int64_t, num_classes) = 21;
  /// Colors of classes 0, 1, ... for RGB label images; empty: labels must be
  /// paletted or grayscale.
  TORCH_ARG(std::vector<Rgb>, colormap) = {};
};

/// An image folder and a label folder matched by basename (as DIGITS does),
/// or a prepare_voc() split. Listing happens at construction; decoding in
/// get(), which throws c10::Error naming the file for a corrupt image, a
/// label that is not single-channel (without colormap), differing image and
/// label sizes, or a class index >= num_classes other than 255.
class VOCSegmentation : public torch::data::datasets::
                            Dataset<VOCSegmentation, SegmentationExample>,
                        public SegmentationDataset {
 public:
  /// Throws c10::Error for a missing or empty folder, unequal image and
  /// label counts, or an image without a label of the same basename.
  VOCSegmentation(
      const std::string& images_dir,
      const std::string& labels_dir,
      VocOptions options = {});

  /// The `split` ("train" or "val") of a prepare_voc() output folder.
  static std::shared_ptr<VOCSegmentation> prepared(
      const std::string& root,
      const std::string& split,
      VocOptions options = {});

  SegmentationExample get(size_t index) override;
  c10::optional<size_t> size() const override;
  std::string name(size_t index) const override;

  const std::string& image_path(size_t index) const {
    return images_.at(index);
  }
  const std::string& label_path(size_t index) const {
    return labels_.at(index);
  }

 private:
  VocOptions options_;
  std::vector<std::string> images_;
  std::vector<std::string> labels_;
};

/// Checks a decoded sample: same size, classes < num_classes or 255. Throws
/// c10::Error naming `name`.
void check_sample(
    const at::Tensor& image_hwc,
    const at::Tensor& label,
    int64_t num_classes,
    const std::string& name);

} // namespace data
} // namespace fcnlab
