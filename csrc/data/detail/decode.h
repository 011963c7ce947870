#pragma once

#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <string>

namespace fcnlab {
namespace data {
namespace detail {

/// Throws c10::Error "<what> <name> is WxH pixels, more than the limit"
/// when width x height exceeds max_image_pixels().
void check_pixel_limit(
    int64_t width,
    int64_t height,
    const char* what,
    const std::string& name);

/// check_pixel_limit() of the size in a PNG, JPEG, BMP or PNM header;
/// nothing for other formats.
void check_header_pixel_limit(
    const std::string& bytes,
    const char* what,
    const std::string& name);

/// Decodes PNG, JPEG, BMP or PNM bytes with OpenCV, as stored (any channel
/// count), scaled to 8 bits; other formats are refused by their signature
/// (OpenCV's DICOM decoder, for one, aborts on damaged input). The size in the
/// header is checked against max_image_pixels() before decoding. Throws
/// c10::Error "<what> <name> is not a readable image" or about the size.
cv::Mat decode_8bit(
    const std::string& bytes,
    const char* what,
    const std::string& name);

} // namespace detail
} // namespace data
} // namespace fcnlab
