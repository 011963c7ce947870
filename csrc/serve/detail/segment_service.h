#pragma once
// "Test One" for the dashboard: an uploaded image segmented by a run's
// model, each model loaded once and kept.

#include <fcnlab/data/palette.h>
#include <fcnlab/io/model_file.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace fcnlab {
namespace serve {
namespace detail {

/// A class found in the segmentation.
struct FoundClass {
  int64_t index = 0;
  std::string name;
  data::Rgb color;
  double share = 0; ///< of the image's pixels
};

struct SegmentResult {
  int64_t height = 0;
  int64_t width = 0;
  std::string overlay_png; ///< the image with class colors blended in
  std::string mask_png;    ///< the class colors alone
  std::string class_map;   ///< height x width bytes: each pixel's class
  std::vector<FoundClass> classes;
};

/// "palette" (the dataset's: VOC's), "paired" (matplotlib's Paired) or
/// "gray"; throws c10::ValueError naming an unknown one.
data::Palette colormap_named(const std::string& name, int64_t num_classes);

class SegmentService {
 public:
  explicit SegmentService(std::string device);

  /// Segments `image_bytes` (decoded with segment's checks; errors name
  /// `image_name`) with `model_file` of the run in `run_dir`: its model.pt
  /// or one of its snapshots.
  SegmentResult segment(
      const std::string& run_dir,
      const std::string& model_file,
      std::vector<std::string> class_names,
      const std::string& image_bytes,
      const std::string& image_name,
      const std::string& colormap,
      double opacity);

 private:
  io::LoadedNetwork& model_for(
      const std::string& run_dir,
      const std::string& file);

  std::string device_;
  std::mutex mutex_; // one segmentation at a time: each uses every core
  std::map<std::string, std::pair<int64_t, io::LoadedNetwork>> models_;
};

/// Standard base64 of `bytes` (for images inside JSON).
std::string base64(const std::string& bytes);

} // namespace detail
} // namespace serve
} // namespace fcnlab
