#pragma once

#include <fcnlab/data/voc.h>

#include <torch/arg.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fcnlab {
namespace data {

/// How object crops are cut from a segmentation dataset.
struct CropOptions {
  /// Crops are resized to side x side (Alexnet's 227).
  TORCH_ARG(int64_t, side) = 227;
  /// Context kept around an object's bounding box on every side, as a share
  /// of the box's longer side.
  TORCH_ARG(double, context) = 0.15;
  /// Objects of fewer pixels are left out.
  TORCH_ARG(int64_t, min_pixels) = 64;
  /// Also one crop of class 0 per image: the corner or centre window (half
  /// the shorter side) with the most class-0 pixels, when they are at least
  /// background_share of it.
  TORCH_ARG(bool, background) = true;
  TORCH_ARG(double, background_share) = 0.8;
  /// Every crop also mirrored left-right (doubles the samples).
  TORCH_ARG(bool, mirror) = true;
};

/// One crop: a box of a source sample and its class.
struct Crop {
  size_t source = 0; ///< index in the source dataset
  int64_t label = 0;
  int64_t top = 0, left = 0, bottom = 0, right = 0; ///< half-open pixel box
  bool mirrored = false;
};

/// The object crops of `labels` (H x W int64, 255 ignored) for sample
/// `source`: per class present other than 0, the bounding box of its pixels
/// widened by the context, squared where the image allows it, and clipped
/// to the image; then the background window; each also mirrored.
std::vector<Crop> find_crops(
    const at::Tensor& labels,
    size_t source,
    const CropOptions& options = {});

/// A classification dataset cut from a segmentation dataset's own labels,
/// for pretraining a classifier without ImageNet: image 3 x side x side
/// (bilinear), target 1 x 1 holding the crop's class, so that a classifier
/// whose output is N x C x 1 x 1 trains with segmentation_loss(). Every
/// label is read once at construction to find the crops.
class ObjectCrops : public SegmentationDataset {
 public:
  /// Throws c10::Error when `source` yields no crop at all.
  ObjectCrops(
      std::shared_ptr<SegmentationDataset> source,
      CropOptions options = {});

  SegmentationExample get(size_t index) override;
  c10::optional<size_t> size() const override;
  /// "<source name>:<class>[:mirrored]".
  std::string name(size_t index) const override;

  const std::vector<Crop>& crops() const {
    return crops_;
  }

 private:
  std::shared_ptr<SegmentationDataset> source_;
  CropOptions options_;
  std::vector<Crop> crops_;
};

} // namespace data
} // namespace fcnlab
