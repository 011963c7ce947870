#include "detail/decode.h"

#include <fcnlab/data/image_io.h>

#include <c10/util/Exception.h>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <optional>

namespace fcnlab {
namespace data {
namespace {

constexpr int64_t kDefaultMaxImagePixels = 100000000;

int64_t initial_max_image_pixels() {
  const char* text = std::getenv("FCNLAB_MAX_IMAGE_PIXELS");
  if (text == nullptr || *text == '\0') {
    return kDefaultMaxImagePixels;
  }
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  TORCH_CHECK(
      *end == '\0' && value > 0,
      "FCNLAB_MAX_IMAGE_PIXELS=",
      text,
      " is not a positive whole number");
  return value;
}

std::atomic<int64_t>& max_pixels_setting() {
  static std::atomic<int64_t> setting{initial_max_image_pixels()};
  return setting;
}

struct ImageSize {
  int64_t width;
  int64_t height;
};

uint32_t big_endian(const uint8_t* p, int bytes) {
  uint32_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value = (value << 8) | p[i];
  }
  return value;
}

uint32_t little_endian32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) |
      (uint32_t(p[3]) << 24);
}

// The formats fcnlab decodes. OpenCV would try many more (DICOM, JPEG 2000,
// TIFF, ...) on whatever bytes it is given, and some of its decoders abort
// the process on damaged input, so other formats never reach it.
enum class Format { kPng, kJpeg, kBmp, kPnm, kOther };

struct Header {
  Format format = Format::kOther;
  std::optional<ImageSize> size; // when the header says it
};

std::optional<ImageSize> jpeg_size(const uint8_t* p, size_t n) {
  // The first frame header (SOFn), found as libjpeg finds markers: bytes
  // before a 0xFF are skipped (it warns about them), then fill bytes.
  size_t i = 2;
  while (i < n) {
    while (i < n && p[i] != 0xFF) {
      ++i;
    }
    while (i < n && p[i] == 0xFF) {
      ++i;
    }
    if (i >= n) {
      return std::nullopt;
    }
    const uint8_t marker = p[i++];
    if (marker == 0x00 || marker == 0x01 || marker == 0xD8 ||
        (marker >= 0xD0 && marker <= 0xD7)) {
      continue; // no length follows
    }
    if (marker == 0xDA || marker == 0xD9) {
      return std::nullopt; // scan data or the end before any frame header
    }
    if (i + 2 > n) {
      return std::nullopt;
    }
    const bool frame_header = marker >= 0xC0 && marker <= 0xCF &&
        marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame_header) {
      if (i + 7 > n) {
        return std::nullopt;
      }
      return ImageSize{big_endian(p + i + 5, 2), big_endian(p + i + 3, 2)};
    }
    i += big_endian(p + i, 2);
  }
  return std::nullopt;
}

std::optional<ImageSize> pnm_size(const uint8_t* p, size_t n) {
  // Read as OpenCV reads it: whitespace and '#' comments (to the end of the
  // line) before each number, and whatever byte follows a number ends it.
  size_t i = 2;
  int64_t fields[2] = {0, 0};
  for (int64_t& field : fields) {
    while (i < n && !std::isdigit(p[i])) {
      if (p[i] == '#') {
        while (i < n && p[i] != '\n' && p[i] != '\r') {
          ++i;
        }
        ++i;
      } else if (std::isspace(p[i])) {
        ++i;
      } else {
        return std::nullopt; // OpenCV refuses it too
      }
    }
    int digits = 0;
    for (; i < n && std::isdigit(p[i]); ++i, ++digits) {
      if (digits == 10) {
        return std::nullopt; // over INT_MAX: OpenCV refuses it too
      }
      field = field * 10 + (p[i] - '0');
    }
    if (digits == 0) {
      return std::nullopt;
    }
    ++i;
  }
  return ImageSize{fields[0], fields[1]};
}

std::optional<ImageSize> bmp_size(const uint8_t* p, size_t n) {
  if (n < 26) {
    return std::nullopt;
  }
  const uint32_t info_size = little_endian32(p + 14);
  if (info_size == 12) { // OS/2 BITMAPCOREHEADER: 16-bit sizes
    return ImageSize{
        int64_t(p[18]) | (int64_t(p[19]) << 8),
        int64_t(p[20]) | (int64_t(p[21]) << 8)};
  }
  if (info_size < 36) {
    return std::nullopt;
  }
  // Height is negative for top-down bitmaps.
  const auto height = static_cast<int32_t>(little_endian32(p + 22));
  return ImageSize{
      static_cast<int32_t>(little_endian32(p + 18)),
      height < 0 ? -int64_t(height) : int64_t(height)};
}

// The format of image bytes from their signature and, for these formats,
// the size their header declares, without decoding.
Header read_header(const std::string& bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  Header header;
  if (n >= 8 && std::equal(kPng, kPng + 8, p)) {
    header.format = Format::kPng;
    if (n >= 24 && std::equal(p + 12, p + 16, "IHDR")) {
      header.size = ImageSize{big_endian(p + 16, 4), big_endian(p + 20, 4)};
    }
  } else if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) {
    header.format = Format::kJpeg;
    header.size = jpeg_size(p, n);
  } else if (n >= 2 && p[0] == 'B' && p[1] == 'M') {
    header.format = Format::kBmp;
    header.size = bmp_size(p, n);
  } else if (
      n >= 3 && p[0] == 'P' && p[1] >= '1' && p[1] <= '6' &&
      std::isspace(p[2])) {
    header.format = Format::kPnm;
    header.size = pnm_size(p, n);
  }
  return header;
}

} // namespace

int64_t max_image_pixels() {
  return max_pixels_setting().load();
}

void set_max_image_pixels(int64_t pixels) {
  TORCH_CHECK_VALUE(
      pixels > 0, "the image pixel limit must be positive, got ", pixels);
  max_pixels_setting().store(pixels);
}

namespace detail {

void check_pixel_limit(
    int64_t width,
    int64_t height,
    const char* what,
    const std::string& name) {
  const int64_t limit = max_image_pixels();
  // Divides instead of multiplying: width x height may overflow.
  TORCH_CHECK(
      width <= 0 || height <= limit / width,
      what,
      " ",
      name,
      " is ",
      width,
      "x",
      height,
      " pixels, more than the limit of ",
      limit,
      " (max_image_pixels, FCNLAB_MAX_IMAGE_PIXELS or --max-image-pixels)");
}

void check_header_pixel_limit(
    const std::string& bytes,
    const char* what,
    const std::string& name) {
  if (const auto size = read_header(bytes).size) {
    check_pixel_limit(size->width, size->height, what, name);
  }
}

cv::Mat decode_8bit(
    const std::string& bytes,
    const char* what,
    const std::string& name) {
  const Header header = read_header(bytes);
  TORCH_CHECK(
      header.format != Format::kOther,
      what,
      " ",
      name,
      " is not a readable image: not a PNG, JPEG, BMP or PNM (PPM/PGM) file "
      "(convert other formats first)");
  // Without a size from the header the decoder could allocate anything.
  TORCH_CHECK(
      header.size,
      what,
      " ",
      name,
      " is not a readable image: its header is damaged (no size)");
  check_pixel_limit(header.size->width, header.size->height, what, name);
  const cv::Mat raw(
      1,
      static_cast<int>(bytes.size()),
      CV_8U,
      const_cast<char*>(bytes.data()));
  cv::Mat image;
  try {
    image = cv::imdecode(raw, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& error) {
    TORCH_CHECK(
        false, what, " ", name, " is not a readable image: ", error.msg);
  }
  TORCH_CHECK(
      !image.empty(),
      what,
      " ",
      name,
      " is not a readable image (corrupt, truncated or unsupported)");
  check_pixel_limit(image.cols, image.rows, what, name);
  if (image.depth() != CV_8U) {
    image.convertTo(image, CV_8U, 1.0 / 257.0);
  }
  return image;
}

} // namespace detail
} // namespace data
} // namespace fcnlab
