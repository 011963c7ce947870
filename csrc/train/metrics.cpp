#include <fcnlab/train/metrics.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace fcnlab {
namespace train {
namespace {

double nanmean(const std::vector<double>& values) {
  double sum = 0;
  int count = 0;
  for (const double value : values) {
    if (!std::isnan(value)) {
      sum += value;
      ++count;
    }
  }
  return count ? sum / count : std::numeric_limits<double>::quiet_NaN();
}

} // namespace

ConfusionMatrix::ConfusionMatrix(int64_t num_classes)
    : num_classes_(num_classes),
      counts_(at::zeros({num_classes, num_classes}, at::kLong)) {
  TORCH_CHECK_VALUE(num_classes >= 1, "a confusion matrix needs >= 1 class");
}

void ConfusionMatrix::update(
    const at::Tensor& prediction,
    const at::Tensor& label) {
  TORCH_CHECK_VALUE(
      prediction.sizes() == label.sizes(),
      "prediction ",
      prediction.sizes(),
      " and label ",
      label.sizes(),
      " differ in shape");
  const auto truth = label.flatten().to(at::kCPU, at::kLong);
  const auto predicted = prediction.flatten().to(at::kCPU, at::kLong);
  const auto valid = (truth >= 0) & (truth < num_classes_);
  const auto index = truth.masked_select(valid) * num_classes_ +
      predicted.masked_select(valid);
  counts_ += at::bincount(index, {}, num_classes_ * num_classes_)
                 .view({num_classes_, num_classes_});
}

void ConfusionMatrix::merge(const ConfusionMatrix& other) {
  TORCH_CHECK_VALUE(
      other.num_classes_ == num_classes_,
      "cannot merge a ",
      other.num_classes_,
      "-class matrix into a ",
      num_classes_,
      "-class one");
  counts_ += other.counts_;
}

void ConfusionMatrix::reset() {
  counts_.zero_();
}

int64_t ConfusionMatrix::total() const {
  return counts_.sum().item<int64_t>();
}

double ConfusionMatrix::pixel_accuracy() const {
  const int64_t all = total();
  return all
      ? static_cast<double>(counts_.diagonal().sum().item<int64_t>()) / all
      : std::numeric_limits<double>::quiet_NaN();
}

double ConfusionMatrix::mean_accuracy() const {
  std::vector<double> accuracies;
  const auto rows = counts_.sum(1);
  for (int64_t c = 0; c < num_classes_; ++c) {
    const auto row = rows[c].item<int64_t>();
    accuracies.push_back(
        row ? double(counts_[c][c].item<int64_t>()) / row
            : std::numeric_limits<double>::quiet_NaN());
  }
  return nanmean(accuracies);
}

std::vector<double> ConfusionMatrix::class_iu() const {
  const auto rows = counts_.sum(1);
  const auto columns = counts_.sum(0);
  std::vector<double> ius;
  for (int64_t c = 0; c < num_classes_; ++c) {
    const auto hit = counts_[c][c].item<int64_t>();
    const auto united =
        rows[c].item<int64_t>() + columns[c].item<int64_t>() - hit;
    ius.push_back(
        united ? double(hit) / united
               : std::numeric_limits<double>::quiet_NaN());
  }
  return ius;
}

double ConfusionMatrix::mean_iu() const {
  return nanmean(class_iu());
}

double ConfusionMatrix::frequency_weighted_iu() const {
  const int64_t all = total();
  if (!all) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const auto rows = counts_.sum(1);
  const auto ius = class_iu();
  double weighted = 0;
  for (int64_t c = 0; c < num_classes_; ++c) {
    const double frequency = double(rows[c].item<int64_t>()) / all;
    if (frequency > 0) {
      weighted += frequency * ius[size_t(c)];
    }
  }
  return weighted;
}

std::string ConfusionMatrix::to_string(
    const std::vector<std::string>& class_names) const {
  std::ostringstream out;
  char line[160];
  std::snprintf(
      line,
      sizeof(line),
      "pixel accuracy %.4f  mean accuracy %.4f  mean IU %.4f  f.w. IU %.4f  "
      "(%lld pixels)\n",
      pixel_accuracy(),
      mean_accuracy(),
      mean_iu(),
      frequency_weighted_iu(),
      static_cast<long long>(total()));
  out << line;
  const auto ius = class_iu();
  for (int64_t c = 0; c < num_classes_; ++c) {
    const std::string name = size_t(c) < class_names.size()
        ? class_names[size_t(c)]
        : "class " + std::to_string(c);
    if (std::isnan(ius[size_t(c)])) {
      std::snprintf(
          line,
          sizeof(line),
          "  %3lld %-14s      -   (absent)\n",
          static_cast<long long>(c),
          name.c_str());
    } else {
      std::snprintf(
          line,
          sizeof(line),
          "  %3lld %-14s %6.4f\n",
          static_cast<long long>(c),
          name.c_str(),
          ius[size_t(c)]);
    }
    out << line;
  }
  return out.str();
}

} // namespace train
} // namespace fcnlab
