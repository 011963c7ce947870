#include "segment_service.h"

#include <fcnlab/data/image_io.h>
#include <fcnlab/data/label_io.h>
#include <fcnlab/infer/segment.h>
#include <fcnlab/train/trainer.h>
#include <fcnlab/util/device.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <array>
#include <filesystem>

namespace fcnlab {
namespace serve {
namespace detail {
namespace {

namespace fs = std::filesystem;

int64_t file_stamp(const std::string& path) {
  std::error_code error;
  const auto time = fs::last_write_time(path, error);
  return error ? -1 : static_cast<int64_t>(time.time_since_epoch().count());
}

// matplotlib's "Paired" colormap: DIGITS' second choice.
constexpr std::array<data::Rgb, 12> kPaired = {
    {{166, 206, 227},
     {31, 120, 180},
     {178, 223, 138},
     {51, 160, 44},
     {251, 154, 153},
     {227, 26, 28},
     {253, 191, 111},
     {255, 127, 0},
     {202, 178, 214},
     {106, 61, 154},
     {255, 255, 153},
     {177, 89, 40}}};

} // namespace

data::Palette colormap_named(const std::string& name, int64_t num_classes) {
  if (name.empty() || name == "palette") {
    return data::voc_palette();
  }
  data::Palette palette = data::voc_palette();
  if (name == "paired") {
    for (size_t i = 1; i < palette.size(); ++i) {
      palette[i] = kPaired[(i - 1) % kPaired.size()];
    }
    palette[0] = {0, 0, 0};
    return palette;
  }
  if (name == "gray") {
    const int64_t last = std::max<int64_t>(1, num_classes - 1);
    for (size_t i = 0; i < palette.size(); ++i) {
      const auto level =
          static_cast<uint8_t>(std::min<int64_t>(255, int64_t(i) * 255 / last));
      palette[i] = {level, level, level};
    }
    return palette;
  }
  TORCH_CHECK_VALUE(
      false, "unknown colormap '", name, "': use palette, paired or gray");
}

SegmentService::SegmentService(std::string device)
    : device_(std::move(device)) {}

io::LoadedNetwork& SegmentService::model_for(
    const std::string& run_dir,
    const std::string& file) {
  const auto path = (fs::path(run_dir) / file).string();
  const int64_t stamp = file_stamp(path);
  auto found = models_.find(path);
  if (found != models_.end() && found->second.first == stamp) {
    return found->second.second;
  }
  // The run's model file knows its network; a snapshot holds the weights
  // of that same network at an earlier iteration.
  const auto model_file = (fs::path(run_dir) / "model.pt").string();
  TORCH_CHECK(
      io::is_model_file(model_file),
      run_dir,
      " has no model.pt to take the network from");
  auto loaded = io::load_network(model_file, []() -> models::FcnNet {
    TORCH_CHECK(false, "not a model file");
  });
  if (file != "model.pt") {
    train::load_snapshot_weights(path, loaded.model);
  }
  loaded.model->to(parse_device(device_));
  return models_.insert_or_assign(path, std::make_pair(stamp, loaded))
      .first->second.second;
}

SegmentResult SegmentService::segment(
    const std::string& run_dir,
    const std::string& model_file,
    std::vector<std::string> class_names,
    const std::string& image_bytes,
    const std::string& image_name,
    const std::string& colormap,
    double opacity) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& loaded = model_for(run_dir, model_file);
  if (!loaded.class_names.empty()) {
    class_names = loaded.class_names;
  }
  const int64_t num_classes = loaded.model->num_classes();
  if (class_names.empty() && num_classes == 21) {
    class_names = data::voc_class_names();
  }
  const auto palette = colormap_named(colormap, num_classes);
  const auto image = data::decode_image(image_bytes, image_name);
  const auto classes = infer::segment(loaded.model, image).classes;

  SegmentResult result;
  result.height = classes.size(0);
  result.width = classes.size(1);
  result.overlay_png = data::encode_image(
      infer::overlay(image, classes, palette, opacity), "png");
  const auto bgr = data::palette_tensor(palette).flip({1});
  result.mask_png = data::encode_image(
      bgr.index_select(0, classes.to(at::kLong).flatten())
          .view({result.height, result.width, 3})
          .contiguous(),
      "png");
  const auto bytes = classes.contiguous();
  result.class_map.assign(
      reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()),
      static_cast<size_t>(bytes.numel()));
  const auto counts = at::bincount(classes.flatten().to(at::kLong));
  const double pixels = double(classes.numel());
  for (int64_t c = 0; c < counts.size(0); ++c) {
    const int64_t count = counts[c].item<int64_t>();
    if (count == 0) {
      continue;
    }
    FoundClass found;
    found.index = c;
    found.name = c < int64_t(class_names.size()) ? class_names[size_t(c)]
                                                 : "class " + std::to_string(c);
    found.color = palette[size_t(c)];
    found.share = double(count) / pixels;
    result.classes.push_back(found);
  }
  return result;
}

std::string base64(const std::string& bytes) {
  static const char* digits =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = (uint8_t(bytes[i]) << 16) |
        (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) {
      out += digits[(n >> shift) & 63];
    }
  }
  if (i < bytes.size()) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) {
      n |= uint8_t(bytes[i + 1]) << 8;
    }
    out += digits[(n >> 18) & 63];
    out += digits[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? digits[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

} // namespace detail
} // namespace serve
} // namespace fcnlab
