#include "detail/decode.h"

#include <c10/util/Exception.h>

#include <opencv2/imgcodecs.hpp>

namespace fcnlab {
namespace data {
namespace detail {

cv::Mat decode_8bit(
    const std::string& bytes,
    const char* what,
    const std::string& name) {
  const cv::Mat raw(
      1,
      static_cast<int>(bytes.size()),
      CV_8U,
      const_cast<char*>(bytes.data()));
  cv::Mat image = cv::imdecode(raw, cv::IMREAD_UNCHANGED);
  TORCH_CHECK(
      !image.empty(),
      what,
      " ",
      name,
      " is not a readable image (corrupt, truncated or unsupported)");
  if (image.depth() != CV_8U) {
    image.convertTo(image, CV_8U, 1.0 / 257.0);
  }
  return image;
}

} // namespace detail
} // namespace data
} // namespace fcnlab
