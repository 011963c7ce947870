#pragma once

#include <fcnlab/data/augment.h>
#include <fcnlab/data/palette.h>
#include <fcnlab/data/voc.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace fcnlab {
namespace data {

/// What DIGITS' "Explore DB" page shows, in numbers.
struct DatasetStats {
  size_t entries = 0;
  /// (height, width) -> number of images of that size.
  std::map<std::pair<int64_t, int64_t>, size_t> sizes;
  /// Pixels per label value 0..255 (255 = ignore).
  std::vector<int64_t> class_pixels = std::vector<int64_t>(256, 0);

  /// Entry count, size histogram and class pixel frequencies by name.
  std::string to_string(const std::vector<std::string>& class_names) const;
};

/// Decodes every sample once and counts.
DatasetStats dataset_stats(SegmentationDataset& dataset);

/// Writes a PNG with the first `count` samples, each image beside its
/// colorized label, rows `tile_height` pixels high; with `augment` on, the
/// samples as training with that seed draws them in its first epoch.
void write_montage(
    SegmentationDataset& dataset,
    const std::string& path,
    size_t count,
    const Palette& palette,
    int64_t tile_height = 128,
    const AugmentOptions& augment = {},
    uint64_t seed = 0);

} // namespace data
} // namespace fcnlab
