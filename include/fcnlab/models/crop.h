#pragma once

// Where Crop layers cut: the coordinate maps of a network's blobs and the
// crop offsets derived from them.

#include <fcnlab/models/coord_map.h>
#include <fcnlab/models/net_spec.h>

#include <cstdint>
#include <map>
#include <string>

namespace fcnlab {
namespace models {

/// Coordinate maps of both spatial axes: y for height, x for width.
struct SpatialMap {
  CoordMap y;
  CoordMap x;
};

/// The geometry of a layer along one axis (0: height, 1: width) for
/// coord_map(); pointwise for layers that keep positions.
LayerGeometry layer_geometry(const LayerSpec& layer, int axis);

/// For every blob of `spec`, the map from its positions to input positions
/// (FCN's coord_map composed over the graph; the input maps to itself). A
/// Crop's output takes the map of its reference; Eltwise and Concat take
/// their first bottom's. Blobs after a global pooling have no fixed map and
/// are left out.
std::map<std::string, SpatialMap> blob_coord_maps(const NetSpec& spec);

/// The crop offsets (height, width) that align each Crop layer's first bottom
/// with its reference, derived from the maps: off = (b_ref - b_in) / a for
/// maps x = a*u + b. Throws c10::Error naming the layer when the two maps
/// have different scales or the offset is not a whole number >= 0.
std::map<std::string, std::pair<int64_t, int64_t>> derive_crop_offsets(
    const NetSpec& spec);

/// Fills every Crop layer without written offsets with the derived ones and
/// returns them all; throws c10::Error naming the layer, its line, the
/// written and the derived offset when they disagree.
std::map<std::string, std::pair<int64_t, int64_t>> resolve_crop_offsets(
    NetSpec& spec);

} // namespace models
} // namespace fcnlab
