#include <fcnlab/data/image_io.h>

#include "detail/decode.h"

#include <fcnlab/util/atomic_file.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <memory>

namespace fcnlab {
namespace data {
namespace {

bool is_jpeg(const std::string& bytes) {
  return bytes.size() >= 3 && uint8_t(bytes[0]) == 0xFF &&
      uint8_t(bytes[1]) == 0xD8 && uint8_t(bytes[2]) == 0xFF;
}

bool has_jpeg_end_marker(const std::string& bytes) {
  // Some writers pad after EOI; look at the last few bytes.
  const size_t from = bytes.size() > 64 ? bytes.size() - 64 : 0;
  for (size_t i = bytes.size(); i-- > from + 1;) {
    if (uint8_t(bytes[i - 1]) == 0xFF && uint8_t(bytes[i]) == 0xD9) {
      return true;
    }
  }
  return false;
}

} // namespace

at::Tensor decode_image(
    const std::string& bytes,
    const std::string& name,
    ChannelConversion conversion) {
  TORCH_CHECK(!bytes.empty(), "image ", name, " is empty");
  TORCH_CHECK(
      !is_jpeg(bytes) || has_jpeg_end_marker(bytes),
      "image ",
      name,
      " is a truncated JPEG (no end-of-image marker)");
  cv::Mat image = detail::decode_8bit(bytes, "image", name);
  const int channels = image.channels();
  if (conversion == ChannelConversion::kBgr && channels != 3) {
    cv::cvtColor(
        image, image, channels == 1 ? cv::COLOR_GRAY2BGR : cv::COLOR_BGRA2BGR);
  } else if (conversion == ChannelConversion::kGray && channels != 1) {
    cv::cvtColor(
        image, image, channels == 3 ? cv::COLOR_BGR2GRAY : cv::COLOR_BGRA2GRAY);
  } else if (conversion == ChannelConversion::kNone && channels == 4) {
    cv::cvtColor(image, image, cv::COLOR_BGRA2BGR);
  }
  // The tensor shares the decoded pixels: its deleter holds a Mat header,
  // and OpenCV's reference count keeps the buffer alive until it runs.
  const auto owner = std::make_shared<cv::Mat>(image);
  return at::from_blob(
      owner->data,
      {owner->rows, owner->cols, owner->channels()},
      {static_cast<int64_t>(owner->step[0]), owner->channels(), 1},
      [owner](void*) {},
      at::kByte);
}

at::Tensor read_image(const std::string& path, ChannelConversion conversion) {
  return decode_image(util::read_file(path, "image"), path, conversion);
}

std::string encode_image(const at::Tensor& hwc, const std::string& format) {
  TORCH_CHECK_VALUE(
      hwc.dim() == 3 && hwc.scalar_type() == at::kByte &&
          (hwc.size(2) == 1 || hwc.size(2) == 3 ||
           (hwc.size(2) == 4 && format == "png")),
      "an image to encode must be H x W x 1 or 3 uint8 (or 4 for png), got ",
      hwc.sizes(),
      " ",
      hwc.scalar_type());
  const auto pixels = hwc.contiguous();
  const cv::Mat image(
      int(hwc.size(0)),
      int(hwc.size(1)),
      CV_8UC(int(hwc.size(2))),
      pixels.data_ptr<uint8_t>());
  std::vector<uchar> buffer;
  std::vector<int> params;
  if (format == "jpg") {
    params = {cv::IMWRITE_JPEG_QUALITY, 92};
  }
  TORCH_CHECK(
      cv::imencode("." + format, image, buffer, params),
      "cannot encode an image as ",
      format);
  return std::string(buffer.begin(), buffer.end());
}

void write_image(const at::Tensor& hwc, const std::string& path) {
  std::string format = std::filesystem::path(path).extension().string();
  TORCH_CHECK_VALUE(
      !format.empty(), "cannot write image ", path, ": no file extension");
  format = format.substr(1);
  if (format == "jpeg") {
    format = "jpg";
  }
  util::write_file_atomically(path, encode_image(hwc, format));
}

at::Tensor to_network_input(const at::Tensor& hwc) {
  TORCH_CHECK_VALUE(
      hwc.dim() == 3 && hwc.size(2) == 3,
      "network input must be H x W x 3 BGR, got ",
      hwc.sizes());
  // One pass: convert and transpose while copying.
  return at::empty(
             {3, hwc.size(0), hwc.size(1)}, hwc.options().dtype(at::kFloat))
      .copy_(hwc.permute({2, 0, 1}));
}

} // namespace data
} // namespace fcnlab
