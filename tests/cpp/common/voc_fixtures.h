#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace fcnlab {
namespace testing {

/// A sample written to disk, with what a correct reader must return.
struct WrittenSample {
  at::Tensor image; ///< H x W x 3 uint8 BGR, as OpenCV decodes the file
  at::Tensor label; ///< H x W uint8 class indices
};

/// Writes <images_dir>/<name>.<image_format> (drawn with OpenCV) and
/// <labels_dir>/<name>.png: a paletted PNG with a rectangle of class
/// `label_class` bordered by 255 on background 0.
WrittenSample write_sample(
    const std::string& images_dir,
    const std::string& labels_dir,
    const std::string& name,
    int height,
    int width,
    int label_class,
    const std::string& image_format = "png");

} // namespace testing
} // namespace fcnlab
