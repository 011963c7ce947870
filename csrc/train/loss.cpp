#include <fcnlab/train/loss.h>

#include <ATen/ATen.h>

namespace fcnlab {
namespace train {

at::Tensor segmentation_loss(
    const at::Tensor& scores,
    const at::Tensor& labels,
    const models::LossSpec& loss) {
  if (scores.scalar_type() != at::kFloat) {
    // Mixed precision: the softmax and its sums want float32.
    return segmentation_loss(scores.to(at::kFloat), labels, loss);
  }
  const auto summed = at::cross_entropy_loss(
      scores,
      labels,
      /*weight=*/{},
      at::Reduction::Sum,
      /*ignore_index=*/loss.ignore_label);
  if (loss.normalize) {
    // The mean over the counted pixels, without reading their number on the
    // host (a wait for the device on a GPU); 0 when none counts.
    const auto counted = (labels != loss.ignore_label).sum();
    return summed / counted.clamp_min(1).to(summed.scalar_type());
  }
  return summed / static_cast<double>(scores.size(0));
}

at::Tensor image_losses(
    const at::Tensor& scores,
    const at::Tensor& labels,
    const models::LossSpec& loss) {
  if (scores.scalar_type() != at::kFloat) {
    return image_losses(scores.to(at::kFloat), labels, loss);
  }
  const auto per_pixel = at::cross_entropy_loss(
      scores,
      labels,
      /*weight=*/{},
      at::Reduction::None,
      /*ignore_index=*/loss.ignore_label);
  const auto sums = per_pixel.flatten(1).sum(1);
  if (!loss.normalize) {
    return sums;
  }
  // An image without a pixel to learn from adds zero, as in batch 1.
  const auto counted = (labels != loss.ignore_label).flatten(1).sum(1);
  return sums / counted.clamp_min(1).to(sums.scalar_type());
}

} // namespace train
} // namespace fcnlab
