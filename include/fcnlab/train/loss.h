#pragma once

#include <fcnlab/models/net_spec.h>

#include <ATen/core/Tensor.h>

namespace fcnlab {
namespace train {

/// Softmax cross-entropy over classes with `loss.ignore_label` ignored:
/// averaged over the non-ignored pixels when loss.normalize (DIGITS'
/// normalize: true), else summed over them and divided by the batch size
/// (Caffe's BATCH_SIZE, the FCN reference's VGG nets). Returns a zero that
/// keeps the graph when every pixel is ignored. scores N x C x H x W, labels
/// N x H x W int64.
at::Tensor segmentation_loss(
    const at::Tensor& scores,
    const at::Tensor& labels,
    const models::LossSpec& loss = {});

/// segmentation_loss() of each image of the batch on its own: N values.
at::Tensor image_losses(
    const at::Tensor& scores,
    const at::Tensor& labels,
    const models::LossSpec& loss = {});

} // namespace train
} // namespace fcnlab
