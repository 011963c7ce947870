#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace fcnlab {
namespace data {

/// How decoded images are converted (DIGITS' "channel conversion").
enum class ChannelConversion {
  kBgr,  ///< 3 channels: gray is repeated, alpha dropped (DIGITS "RGB")
  kGray, ///< 1 channel (DIGITS "Grayscale")
  kNone, ///< as stored, alpha dropped
};

/// The largest image or label, in pixels (width x height), that decoding
/// accepts: 100,000,000 unless the environment variable
/// FCNLAB_MAX_IMAGE_PIXELS says otherwise. The header is checked before any
/// pixel is allocated, so a small file that claims a huge size (a
/// decompression bomb) costs nothing.
int64_t max_image_pixels();

/// Sets max_image_pixels() for this process; throws c10::ValueError when
/// `pixels` is not positive.
void set_max_image_pixels(int64_t pixels);

/// Decodes PNG, JPEG, BMP or PNM (PPM/PGM) bytes into an H x W x C uint8 tensor
/// in BGR order (OpenCV's). Throws c10::Error naming `name` when the bytes are
/// not a readable image of these formats (others, such as TIFF, are refused:
/// convert them), a JPEG that ends before its end-of-image marker (libjpeg
/// would silently fill the missing part with gray), or an image larger than
/// max_image_pixels().
at::Tensor decode_image(
    const std::string& bytes,
    const std::string& name,
    ChannelConversion conversion = ChannelConversion::kBgr);

/// decode_image() of a file's contents.
at::Tensor read_image(
    const std::string& path,
    ChannelConversion conversion = ChannelConversion::kBgr);

/// Encodes an H x W x C uint8 BGR (or gray) tensor as "png" or "jpg"; a
/// png may also be BGRA (C = 4, with transparency).
std::string encode_image(const at::Tensor& hwc, const std::string& format);

/// Writes an H x W x C uint8 BGR tensor to `path` (format from its
/// extension), atomically.
void write_image(const at::Tensor& hwc, const std::string& path);

/// H x W x 3 uint8 BGR -> 3 x H x W float32 0..255: FCN-Alexnet's input.
at::Tensor to_network_input(const at::Tensor& hwc);

} // namespace data
} // namespace fcnlab
