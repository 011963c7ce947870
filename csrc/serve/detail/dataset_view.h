#pragma once
// DIGITS' "Explore DB" for the dashboard: a dataset folder (prepare-voc or
// create-db output, or a folder with images/ and labels/) opened once, its
// labels read once to know which classes each sample holds.

#include <fcnlab/data/dataset_dir.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace fcnlab {
namespace serve {
namespace detail {

/// True when `dir` is a dataset folder this view opens.
bool is_dataset_folder(const std::string& dir);

class DatasetView {
 public:
  DatasetView(std::string id, std::string name, std::string dir);

  /// {id, name, path}: a row of the dataset list.
  nlohmann::json summary() const;
  /// One page of a split's samples, those holding `class_filter` (or all
  /// when negative): {split, splits, total, count, offset, items: [{index,
  /// name, classes}], class_names, colors, class_shares}. Throws c10::Error
  /// for an unknown split.
  nlohmann::json page(
      const std::string& split,
      int64_t offset,
      int64_t limit,
      int64_t class_filter);
  /// Sample `index` of `split`: the image as PNG, or its label colored
  /// with the dataset's palette, background and ignored pixels transparent.
  std::string image_png(const std::string& split, int64_t index);
  std::string label_png(const std::string& split, int64_t index);

 private:
  struct Split {
    std::shared_ptr<data::SegmentationDataset> data;
    std::vector<std::vector<int64_t>> classes; ///< per sample
    std::vector<int64_t> class_pixels;
    bool scanned = false;
  };
  void open();
  Split& split(const std::string& name);
  void scan(Split& split);
  data::SegmentationExample sample(const std::string& split, int64_t index);

  std::string id_;
  std::string name_;
  std::string dir_;
  std::mutex mutex_;
  bool opened_ = false;
  data::DatasetDir dataset_;
  std::map<std::string, Split> splits_;
};

} // namespace detail
} // namespace serve
} // namespace fcnlab
