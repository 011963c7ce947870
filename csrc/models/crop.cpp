#include <fcnlab/models/crop.h>

#include "layers/layer_def.h"

#include <c10/util/Exception.h>

#include <cmath>

namespace fcnlab {
namespace models {
namespace {

// The offset of one axis; `what` names the axis in messages.
int64_t axis_offset(
    const NetSpec& spec,
    const LayerSpec& layer,
    const CoordMap& input,
    const CoordMap& reference,
    const char* what) {
  TORCH_CHECK(
      std::abs(input.scale - reference.scale) < 1e-9,
      spec.where(layer),
      ": cannot crop ",
      layer.bottoms[0],
      " to ",
      layer.bottoms[1],
      ": their ",
      what,
      " positions map to the input with scales ",
      input.scale,
      " and ",
      reference.scale);
  const double offset = (reference.offset - input.offset) / input.scale;
  TORCH_CHECK(
      offset > -1e-9 && std::abs(offset - std::round(offset)) < 1e-6,
      spec.where(layer),
      ": the derived ",
      what,
      " crop offset ",
      offset,
      " is not a whole number >= 0");
  return static_cast<int64_t>(std::round(offset));
}

} // namespace

LayerGeometry layer_geometry(const LayerSpec& layer, int axis) {
  const auto& def = layers::layer_def(layer.type);
  return def.geometry ? def.geometry(layer, axis) : LayerGeometry{layer.name};
}

namespace {

using CropOffsets = std::map<std::string, std::pair<int64_t, int64_t>>;

// Composes the maps layer by layer; each Crop is derived when the walk
// reaches it, from the maps its bottoms have at that point.
std::map<std::string, SpatialMap> walk(
    const NetSpec& spec,
    CropOffsets* offsets) {
  std::map<std::string, SpatialMap> maps{{spec.input, SpatialMap{}}};
  for (const auto& layer : spec.layers) {
    const std::string& top = layer.tops.at(0);
    const auto in = maps.find(layer.bottoms.at(0));
    const auto ref = layer.type == LayerType::kCrop
        ? maps.find(layer.bottoms.at(1))
        : maps.end();
    const bool crop_mapped = layer.type != LayerType::kCrop ||
        (in != maps.end() && ref != maps.end());
    if (offsets && layer.type == LayerType::kCrop) {
      TORCH_CHECK(
          crop_mapped,
          spec.where(layer),
          ": no fixed crop offset: ",
          in == maps.end() ? layer.bottoms[0] : layer.bottoms[1],
          " passes through a global pooling, an InnerProduct, a Flatten or an "
          "unknown blob");
      const int64_t y = layer.crop.axis <= 2
          ? axis_offset(spec, layer, in->second.y, ref->second.y, "height")
          : 0;
      const int64_t x =
          axis_offset(spec, layer, in->second.x, ref->second.x, "width");
      (*offsets)[layer.name] = {y, x};
    }
    if (in == maps.end() || !crop_mapped ||
        layers::layer_def(layer.type).reads_whole_plane ||
        (layer.type == LayerType::kPooling && layer.pooling.global)) {
      maps.erase(top);
      continue;
    }
    SpatialMap map = in->second;
    if (layer.type == LayerType::kCrop) {
      map.x = ref->second.x;
      if (layer.crop.axis <= 2) {
        map.y = ref->second.y;
      }
    } else {
      map.y = map.y.compose(coord_map(layer_geometry(layer, 0)));
      map.x = map.x.compose(coord_map(layer_geometry(layer, 1)));
    }
    maps[top] = map;
  }
  return maps;
}

} // namespace

std::map<std::string, SpatialMap> blob_coord_maps(const NetSpec& spec) {
  return walk(spec, nullptr);
}

CropOffsets derive_crop_offsets(const NetSpec& spec) {
  CropOffsets offsets;
  walk(spec, &offsets);
  return offsets;
}

CropOffsets resolve_crop_offsets(NetSpec& spec) {
  const auto derived = derive_crop_offsets(spec);
  for (auto& layer : spec.layers) {
    if (layer.type != LayerType::kCrop) {
      continue;
    }
    const auto [y, x] = derived.at(layer.name);
    std::vector<int64_t> wanted = layer.crop.axis <= 2
        ? std::vector<int64_t>{y, x}
        : std::vector<int64_t>{x};
    auto& written = layer.crop.offsets;
    if (written.empty()) {
      // One value when the axes agree, as Caffe's files write it.
      written =
          (wanted.size() == 2 && y == x) ? std::vector<int64_t>{y} : wanted;
      continue;
    }
    std::vector<int64_t> given = written;
    if (given.size() == 1) {
      given.assign(wanted.size(), written[0]);
    }
    auto text = [](const std::vector<int64_t>& values) {
      std::string out;
      for (const int64_t v : values) {
        out += (out.empty() ? "" : ", ") + std::to_string(v);
      }
      return out;
    };
    TORCH_CHECK(
        given == wanted,
        spec.where(layer),
        ": crop offset ",
        text(written),
        " does not align ",
        layer.bottoms[0],
        " with ",
        layer.bottoms[1],
        "; the layer geometry gives ",
        text(wanted),
        " (remove the offset to use the derived one)");
  }
  return derived;
}

} // namespace models
} // namespace fcnlab
