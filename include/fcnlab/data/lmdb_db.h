#pragma once

#include <fcnlab/data/image_io.h>
#include <fcnlab/data/prepare_voc.h>
#include <fcnlab/data/voc.h>

#include <memory>
#include <string>
#include <vector>

namespace fcnlab {
namespace data {

namespace detail {
class LmdbReader;
} // namespace detail

/// How create_db stores pixels in a Caffe Datum.
enum class Encoding { kNone, kPng, kJpg };

/// "png", "jpg" or "none" -> Encoding; throws c10::ValueError otherwise.
Encoding parse_encoding(const std::string& text);

/// Options of create_db (DIGITS' segmentation dataset form).
struct CreateDbOptions {
  std::string train_images;
  std::string train_labels;
  /// Separate validation folders; if empty, val_percent of the training
  /// samples are held out (seeded shuffle).
  std::string val_images;
  std::string val_labels;
  double val_percent = 0;
  uint64_t seed = 0;
  /// Class names file (line i = class i-1); empty: VOC's 21 names.
  std::string classes_file;
  Encoding feature_encoding = Encoding::kPng;
  Encoding label_encoding = Encoding::kPng;
  ChannelConversion channel_conversion = ChannelConversion::kBgr;
  /// DIGITS' "enforce same shape": resize every sample to this size
  /// (images bilinear, labels nearest); 0 keeps native sizes.
  int64_t resize_width = 0;
  int64_t resize_height = 0;
  /// "label": labels are paletted/grayscale, the palette is VOC's;
  /// otherwise a colormap file mapping RGB label colors to classes.
  std::string colormap = "label";
  /// Record bad samples in DIR/skipped.txt and go on instead of failing.
  bool skip_bad = false;
  /// Threads that decode and encode samples; one thread writes.
  int workers = 2;
  std::string out_dir;
};

struct CreateDbReport {
  size_t train = 0;
  size_t val = 0;
  /// "name: reason" of each skipped sample.
  std::vector<std::string> skipped;
};

/// Writes a DIGITS-compatible dataset: out_dir/{train_db,val_db}/{features,
/// labels} LMDBs whose keys are "%09d" sequence numbers and values Caffe
/// Datum messages, plus classes.txt and palette.txt. The directory appears
/// under its final name only when complete. Throws c10::Error naming the
/// offending file (unless skip_bad).
CreateDbReport create_db(
    const CreateDbOptions& options,
    const Progress& progress = nullptr);

/// A train_db or val_db written by create_db or by DIGITS itself: encoded
/// (PNG/JPEG) or raw (C x H x W bytes, BGR) features, 1-channel labels.
class LmdbSegmentation : public torch::data::datasets::
                             Dataset<LmdbSegmentation, SegmentationExample>,
                         public SegmentationDataset {
 public:
  /// `db_dir` holds features/ and labels/. Throws c10::Error when they are
  /// missing, not LMDBs, or hold different keys.
  explicit LmdbSegmentation(
      const std::string& db_dir,
      int64_t num_classes = 21);

  SegmentationExample get(size_t index) override;
  c10::optional<size_t> size() const override;
  std::string name(size_t index) const override;

 private:
  std::string dir_;
  int64_t num_classes_;
  // Shared by copies (LibTorch datasets are copied into map() and loaders);
  // reading is thread-safe.
  std::shared_ptr<const detail::LmdbReader> features_;
  std::shared_ptr<const detail::LmdbReader> labels_;
  std::vector<std::string> keys_;
};

} // namespace data
} // namespace fcnlab
