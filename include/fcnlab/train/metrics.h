#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fcnlab {
namespace train {

/// The confusion matrix of FCN's score.py: h[t][p] counts pixels of true
/// class t predicted as p; labels outside [0, n) (255) are ignored.
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t num_classes);

  /// Adds predictions and labels of the same shape (integer tensors).
  void update(const at::Tensor& prediction, const at::Tensor& label);
  /// Adds another matrix's counts (e.g. from another worker).
  void merge(const ConfusionMatrix& other);
  void reset();

  int64_t num_classes() const {
    return num_classes_;
  }
  /// n x n int64 counts, rows ground truth, columns prediction.
  const at::Tensor& counts() const {
    return counts_;
  }
  int64_t total() const;

  /// sum(diag) / sum: DIGITS' accuracy (background included).
  double pixel_accuracy() const;
  /// nanmean over classes of diag / row sum.
  double mean_accuracy() const;
  /// nanmean over classes of diag / (row + column - diag): classes absent
  /// from both ground truth and prediction are skipped.
  double mean_iu() const;
  /// sum over classes present in the ground truth of frequency * IU.
  double frequency_weighted_iu() const;
  /// IU per class; NaN where the class is absent from both sides.
  std::vector<double> class_iu() const;

  /// A table of the four metrics and per-class IU by name.
  std::string to_string(const std::vector<std::string>& class_names) const;

 private:
  int64_t num_classes_;
  at::Tensor counts_;
};

/// A heat map of the row-normalized matrix (each true class's share of
/// predictions), with class names, as a PNG.
void write_confusion_png(
    const ConfusionMatrix& matrix,
    const std::vector<std::string>& class_names,
    const std::string& path);

} // namespace train
} // namespace fcnlab
