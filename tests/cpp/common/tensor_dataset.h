#pragma once
// A segmentation dataset held in memory, for tests that need exact pixels.

#include <fcnlab/data/voc.h>

#include <string>
#include <utility>
#include <vector>

namespace fcnlab {
namespace testing {

class TensorDataset : public data::SegmentationDataset {
 public:
  explicit TensorDataset(std::vector<data::SegmentationExample> examples)
      : examples_(std::move(examples)) {}
  data::SegmentationExample get(size_t index) override {
    return examples_.at(index);
  }
  c10::optional<size_t> size() const override {
    return examples_.size();
  }
  std::string name(size_t index) const override {
    return "sample" + std::to_string(index);
  }

 private:
  std::vector<data::SegmentationExample> examples_;
};

} // namespace testing
} // namespace fcnlab
