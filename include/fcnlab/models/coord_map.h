#pragma once

// Coordinate maps (FCN's coord_map): how one layer, or a chain of layers,
// relates its output positions to its input positions.

#include <cstdint>
#include <string>
#include <vector>

namespace fcnlab {
namespace models {

/// How a layer relates output positions to input positions along one axis.
enum class LayerKind {
  kWindow,        ///< convolution, pooling: a window sliding with a stride
  kDeconvolution, ///< transposed convolution
  kPointwise,     ///< ReLU, LRN, dropout, shift: positions map to themselves
  /// kWindow's former name, kept for one release.
  kConvolution [[deprecated("use kWindow")]] = kWindow,
};

/// One layer's spatial geometry (square kernels, equal strides and pads).
struct LayerGeometry {
  std::string name;
  LayerKind kind = LayerKind::kPointwise;
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t pad = 0;
};

/// An affine map x = scale * u + offset from a position u in some layer's
/// output to a position x in an earlier layer's input (FCN's coord_map).
struct CoordMap {
  double scale = 1.0;
  double offset = 0.0;

  /// The map of `inner` (applied first, nearer the output) followed by this
  /// one: this(inner(u)).
  CoordMap compose(const CoordMap& inner) const;
  /// Maps output position `u` to the input position.
  double operator()(double u) const {
    return scale * u + offset;
  }
};

/// The map of one layer: convolution and pooling give a = s,
/// b = (k-1)/2 - p; deconvolution gives a = 1/s, b = (p - (k-1)/2)/s.
CoordMap coord_map(const LayerGeometry& layer);

/// Composes `layers` (ordered from the image onwards) into the map from the
/// last layer's output to image positions.
CoordMap coord_map(const std::vector<LayerGeometry>& layers);

/// The offset at which the output of `layers` must be cropped so that it
/// aligns pixel for pixel with the image. Throws c10::Error when the composed
/// map does not have scale 1 or an integral, non-negative offset.
int64_t crop_offset(const std::vector<LayerGeometry>& layers);

} // namespace models
} // namespace fcnlab
