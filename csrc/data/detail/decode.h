#pragma once

#include <opencv2/core/mat.hpp>

#include <string>

namespace fcnlab {
namespace data {
namespace detail {

/// Decodes image bytes with OpenCV, as stored (any channel count), scaled
/// to 8 bits. Throws c10::Error "<what> <name> is not a readable image".
cv::Mat decode_8bit(
    const std::string& bytes,
    const char* what,
    const std::string& name);

} // namespace detail
} // namespace data
} // namespace fcnlab
