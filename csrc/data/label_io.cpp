#include <fcnlab/data/label_io.h>

#include "detail/decode.h"

#include <fcnlab/util/atomic_file.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <png.h>

#include <csetjmp>
#include <cstring>
#include <map>

namespace fcnlab {
namespace data {
namespace {

struct PngRead {
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t offset = 0;
  char error[256] = "";
  uint32_t width = 0;
  uint32_t height = 0;
  int color_type = 0;
  std::vector<uint8_t> indices;
  std::vector<png_bytep> rows;
};

void on_png_error(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngRead*>(png_get_error_ptr(png));
  std::snprintf(state->error, sizeof(state->error), "%s", message);
  png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}

void read_from_memory(png_structp png, png_bytep out, png_size_t count) {
  auto* state = static_cast<PngRead*>(png_get_io_ptr(png));
  if (state->offset + count > state->size) {
    png_error(png, "file is truncated");
  }
  std::memcpy(out, state->data + state->offset, count);
  state->offset += count;
}

// Reads the one-byte-per-pixel samples of a paletted or grayscale PNG as
// stored (indices stay indices). Returns false with state->error set when
// libpng fails. Only plain data lives in this frame, since libpng reports
// errors by longjmp.
bool read_indexed_png(PngRead* state) {
  png_structp png = png_create_read_struct(
      PNG_LIBPNG_VER_STRING, state, on_png_error, on_png_warning);
  if (!png) {
    std::snprintf(state->error, sizeof(state->error), "out of memory");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, state, read_from_memory);
  png_read_info(png, info);
  int bit_depth = 0;
  png_get_IHDR(
      png,
      info,
      &state->width,
      &state->height,
      &bit_depth,
      &state->color_type,
      nullptr,
      nullptr,
      nullptr);
  if (state->color_type != PNG_COLOR_TYPE_PALETTE &&
      state->color_type != PNG_COLOR_TYPE_GRAY) {
    png_destroy_read_struct(&png, &info, nullptr);
    return true; // a color image: the caller decodes it another way
  }
  if (bit_depth == 16) {
    png_set_strip_16(png);
  } else if (bit_depth < 8) {
    png_set_packing(png); // one byte per pixel, values unscaled
  }
  png_read_update_info(png, info);
  state->indices.resize(static_cast<size_t>(state->width) * state->height);
  state->rows.resize(state->height);
  for (uint32_t y = 0; y < state->height; ++y) {
    state->rows[y] =
        state->indices.data() + static_cast<size_t>(y) * state->width;
  }
  png_read_image(png, state->rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

bool is_png(const std::string& bytes) {
  return bytes.size() >= 8 &&
      png_sig_cmp(reinterpret_cast<png_const_bytep>(bytes.data()), 0, 8) == 0;
}

at::Tensor map_colors(
    const cv::Mat& bgr,
    const std::string& name,
    const std::vector<Rgb>& colormap) {
  std::map<uint32_t, uint8_t> class_of;
  for (size_t i = 0; i < colormap.size() && i < 256; ++i) {
    const auto& c = colormap[i];
    class_of.emplace((uint32_t(c.r) << 16) | (uint32_t(c.g) << 8) | c.b, i);
  }
  auto label = at::empty({bgr.rows, bgr.cols}, at::kByte);
  auto* out = label.data_ptr<uint8_t>();
  for (int y = 0; y < bgr.rows; ++y) {
    const auto* row = bgr.ptr<cv::Vec3b>(y);
    for (int x = 0; x < bgr.cols; ++x) {
      const uint32_t key =
          (uint32_t(row[x][2]) << 16) | (uint32_t(row[x][1]) << 8) | row[x][0];
      const auto it = class_of.find(key);
      TORCH_CHECK(
          it != class_of.end(),
          "label ",
          name,
          ": pixel (x=",
          x,
          ", y=",
          y,
          ") has color (",
          int(row[x][2]),
          ",",
          int(row[x][1]),
          ",",
          int(row[x][0]),
          ") which is not in the colormap");
      out[static_cast<size_t>(y) * bgr.cols + x] = it->second;
    }
  }
  return label;
}

void on_write_error(png_structp png, png_const_charp message) {
  auto* error = static_cast<char*>(png_get_error_ptr(png));
  std::snprintf(error, 256, "%s", message);
  png_longjmp(png, 1);
}

void write_to_string(png_structp png, png_bytep data, png_size_t count) {
  static_cast<std::string*>(png_get_io_ptr(png))
      ->append(reinterpret_cast<const char*>(data), count);
}

void no_flush(png_structp) {}

bool write_indexed_png(
    const uint8_t* pixels,
    uint32_t width,
    uint32_t height,
    const png_color* colors,
    std::string* out,
    char* error) {
  png_structp png = png_create_write_struct(
      PNG_LIBPNG_VER_STRING, error, on_write_error, on_png_warning);
  if (!png) {
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, out, write_to_string, no_flush);
  png_set_IHDR(
      png,
      info,
      width,
      height,
      8,
      PNG_COLOR_TYPE_PALETTE,
      PNG_INTERLACE_NONE,
      PNG_COMPRESSION_TYPE_DEFAULT,
      PNG_FILTER_TYPE_DEFAULT);
  png_set_PLTE(png, info, colors, 256);
  png_write_info(png, info);
  for (uint32_t y = 0; y < height; ++y) {
    png_write_row(png, pixels + static_cast<size_t>(y) * width);
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

} // namespace

at::Tensor decode_label(
    const std::string& bytes,
    const std::string& name,
    const std::vector<Rgb>* colormap) {
  TORCH_CHECK(!bytes.empty(), "label ", name, " is empty");
  if (is_png(bytes)) {
    // libpng allocates what the header says; OpenCV's path checks its own.
    detail::check_header_pixel_limit(bytes, "label", name);
    PngRead state;
    state.data = reinterpret_cast<const uint8_t*>(bytes.data());
    state.size = bytes.size();
    TORCH_CHECK(
        read_indexed_png(&state),
        "label ",
        name,
        " is not a readable PNG: ",
        state.error);
    if (!state.indices.empty()) {
      return at::from_blob(
                 state.indices.data(),
                 {int64_t(state.height), int64_t(state.width)},
                 at::kByte)
          .clone();
    }
  }
  cv::Mat image = detail::decode_8bit(bytes, "label", name);
  if (image.channels() == 1) {
    return at::from_blob(image.data, {image.rows, image.cols}, at::kByte)
        .clone();
  }
  TORCH_CHECK(
      colormap != nullptr,
      "label ",
      name,
      " has ",
      image.channels(),
      " channels; labels must be single-channel (paletted or grayscale) "
      "unless a colormap file maps their colors to classes");
  if (image.channels() == 4) {
    cv::cvtColor(image, image, cv::COLOR_BGRA2BGR);
  }
  return map_colors(image, name, *colormap);
}

at::Tensor read_label(
    const std::string& path,
    const std::vector<Rgb>* colormap) {
  return decode_label(util::read_file(path, "label"), path, colormap);
}

std::string encode_label_png(const at::Tensor& label, const Palette& palette) {
  TORCH_CHECK_VALUE(
      label.dim() == 2 && label.scalar_type() == at::kByte,
      "a label to encode must be H x W uint8, got ",
      label.sizes(),
      " ",
      label.scalar_type());
  const auto pixels = label.contiguous();
  png_color colors[256];
  for (size_t i = 0; i < 256; ++i) {
    colors[i] = {palette[i].r, palette[i].g, palette[i].b};
  }
  std::string out;
  char error[256] = "";
  TORCH_CHECK(
      write_indexed_png(
          pixels.data_ptr<uint8_t>(),
          uint32_t(label.size(1)),
          uint32_t(label.size(0)),
          colors,
          &out,
          error),
      "cannot encode a label PNG: ",
      error);
  return out;
}

void write_label_png(
    const at::Tensor& label,
    const std::string& path,
    const Palette& palette) {
  util::write_file_atomically(path, encode_label_png(label, palette));
}

at::Tensor palette_tensor(const Palette& palette) {
  auto table = at::empty({256, 3}, at::kByte);
  auto* entries = table.data_ptr<uint8_t>();
  for (size_t i = 0; i < 256; ++i) {
    entries[3 * i] = palette[i].r;
    entries[3 * i + 1] = palette[i].g;
    entries[3 * i + 2] = palette[i].b;
  }
  return table;
}

at::Tensor colorize(const at::Tensor& label, const Palette& palette) {
  TORCH_CHECK_VALUE(
      label.dim() == 2, "colorize takes an H x W label, got ", label.sizes());
  return palette_tensor(palette)
      .index_select(0, label.to(at::kLong).flatten())
      .view({label.size(0), label.size(1), 3});
}

} // namespace data
} // namespace fcnlab
