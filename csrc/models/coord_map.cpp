#include <fcnlab/models/coord_map.h>

#include <c10/util/Exception.h>

#include <cmath>

namespace fcnlab {
namespace models {

CoordMap CoordMap::compose(const CoordMap& inner) const {
  return {scale * inner.scale, scale * inner.offset + offset};
}

CoordMap coord_map(const LayerGeometry& layer) {
  TORCH_CHECK_VALUE(
      layer.kernel >= 1 && layer.stride >= 1 && layer.pad >= 0,
      "layer ",
      layer.name,
      " has kernel ",
      layer.kernel,
      ", stride ",
      layer.stride,
      ", pad ",
      layer.pad,
      "; expected kernel >= 1, stride >= 1, pad >= 0");
  const double half_kernel = static_cast<double>(layer.kernel - 1) / 2.0;
  const auto stride = static_cast<double>(layer.stride);
  const auto pad = static_cast<double>(layer.pad);
  switch (layer.kind) {
    case LayerKind::kWindow:
      return {stride, half_kernel - pad};
    case LayerKind::kDeconvolution:
      return {1.0 / stride, (pad - half_kernel) / stride};
    case LayerKind::kPointwise:
      return {};
  }
  TORCH_CHECK(false, "layer ", layer.name, " has an unknown kind");
}

CoordMap coord_map(const std::vector<LayerGeometry>& layers) {
  CoordMap total;
  for (const auto& layer : layers) {
    total = total.compose(coord_map(layer));
  }
  return total;
}

int64_t crop_offset(const std::vector<LayerGeometry>& layers) {
  const CoordMap map = coord_map(layers);
  TORCH_CHECK(
      std::abs(map.scale - 1.0) < 1e-12,
      "the layers map outputs to the image with scale ",
      map.scale,
      "; a crop needs scale 1");
  // Output position u sits over image position u + offset, so the image's
  // first pixel is output position -offset.
  const double offset = -map.offset;
  TORCH_CHECK(
      offset >= 0 && std::abs(offset - std::round(offset)) < 1e-9,
      "the layers map outputs to the image with offset ",
      map.offset,
      "; a crop needs a whole, non-positive offset");
  return static_cast<int64_t>(std::round(offset));
}

} // namespace models
} // namespace fcnlab
