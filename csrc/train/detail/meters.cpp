#include "meters.h"

#include <ATen/ATen.h>

#include <limits>

namespace fcnlab {
namespace train {
namespace detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

} // namespace

BatchStatistics read_batch_statistics(
    const at::Tensor& scores,
    const at::Tensor& labels,
    const at::Tensor& loss,
    const models::LossSpec& spec) {
  const auto valid = labels != spec.ignore_label;
  const auto values =
      at::stack({loss.to(at::kDouble),
                 ((scores.argmax(1) == labels) & valid).sum().to(at::kDouble),
                 valid.sum().to(at::kDouble)})
          .to(at::kCPU);
  const auto* value = values.data_ptr<double>();
  return {value[0], value[1], value[2]};
}

void UpdateMeter::add(const BatchStatistics& batch, int64_t images) {
  batch_losses_.push_back(batch.loss);
  loss_ += batch.loss;
  images_ += images;
  correct_ += static_cast<int64_t>(batch.correct);
  counted_ += static_cast<int64_t>(batch.counted);
}

void UpdateMeter::diverge(double loss, std::string image) {
  diverged_loss_ = loss;
  diverged_image_ = std::move(image);
}

double UpdateMeter::loss() const {
  return loss_ / double(images_);
}

double UpdateMeter::accuracy() const {
  return counted_ ? double(correct_) / counted_ : kNaN;
}

void EpochMeter::add(const UpdateMeter& update) {
  // Batch by batch, as one running sum: the epoch's loss does not depend on
  // how its batches were grouped into updates.
  for (const double loss : update.batch_losses_) {
    loss_ += loss;
  }
  images_ += update.images_;
  correct_ += update.correct_;
  counted_ += update.counted_;
}

std::vector<double> EpochMeter::sums() const {
  return {loss_, double(images_), double(correct_), double(counted_)};
}

double EpochMeter::loss(const std::vector<double>& sums) {
  return sums[1] > 0 ? sums[0] / sums[1] : kNaN;
}

double EpochMeter::accuracy(const std::vector<double>& sums) {
  return sums[3] > 0 ? sums[2] / sums[3] : kNaN;
}

} // namespace detail
} // namespace train
} // namespace fcnlab
