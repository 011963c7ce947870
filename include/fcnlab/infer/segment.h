#pragma once

#include <fcnlab/data/palette.h>
#include <fcnlab/models/fcn_net.h>

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace fcnlab {
namespace infer {

/// The segmentation of one image, at its native size (DIGITS' "do not
/// resize").
struct Segmentation {
  at::Tensor classes;       ///< H x W uint8: argmax class per pixel
  at::Tensor probabilities; ///< C x H x W float32: softmax of the scores
};

/// Segments an H x W x 3 uint8 BGR image (as decode_image returns it) in
/// eval mode without gradients, on the model's device. The model's mode is
/// restored afterwards.
Segmentation segment(models::FcnNet model, const at::Tensor& image_bgr);

/// The image (H x W x 3 BGR) blended with each pixel's class color where
/// the class is not 0 (background stays untouched); `opacity` in [0, 1] is
/// the weight of the class color.
at::Tensor overlay(
    const at::Tensor& image_bgr,
    const at::Tensor& classes,
    const data::Palette& palette,
    double opacity = 0.5);

/// `picture` (H x W x 3 BGR) with a legend strip on its right naming, with
/// color swatches, the classes present in `classes` (background excluded).
at::Tensor with_legend(
    const at::Tensor& picture,
    const at::Tensor& classes,
    const data::Palette& palette,
    const std::vector<std::string>& class_names);

/// Files written for one input image.
struct SegmentedFile {
  std::string image;
  std::string mask;    ///< <stem>_mask.png: paletted class map
  std::string overlay; ///< <stem>_overlay.png: overlay with legend
};

/// Segments image files into out_dir. Throws c10::Error naming a file that
/// cannot be read.
std::vector<SegmentedFile> segment_files(
    models::FcnNet model,
    const std::vector<std::string>& images,
    const std::string& out_dir,
    const data::Palette& palette,
    const std::vector<std::string>& class_names,
    double opacity = 0.5);

} // namespace infer
} // namespace fcnlab
