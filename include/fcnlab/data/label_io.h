#pragma once

#include <fcnlab/data/palette.h>

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace fcnlab {
namespace data {

/// Decodes a label image into an H x W uint8 tensor of class indices.
/// Paletted PNGs give their palette indices (read with libpng, never via
/// RGB); 8-bit grayscale images give their values. Color (RGB/RGBA) labels
/// need `colormap` (color of class i at index i) and map each pixel's color
/// to its class; without one they are an error, as is a color not in the
/// colormap (the message names `name` and the pixel). Throws c10::Error.
at::Tensor decode_label(
    const std::string& bytes,
    const std::string& name,
    const std::vector<Rgb>* colormap = nullptr);

/// decode_label() of a file's contents.
at::Tensor read_label(
    const std::string& path,
    const std::vector<Rgb>* colormap = nullptr);

/// Encodes an H x W uint8 label tensor as an 8-bit paletted PNG with
/// `palette`.
std::string encode_label_png(const at::Tensor& label, const Palette& palette);

/// encode_label_png() written to `path` atomically.
void write_label_png(
    const at::Tensor& label,
    const std::string& path,
    const Palette& palette = voc_palette());

/// The palette as a 256 x 3 uint8 tensor of RGB rows (index = label).
at::Tensor palette_tensor(const Palette& palette);

/// Maps an H x W label to an H x W x 3 uint8 RGB picture through `palette`.
at::Tensor colorize(const at::Tensor& label, const Palette& palette);

} // namespace data
} // namespace fcnlab
