#pragma once

#include "convolution.h"

#include <ATen/core/Tensor.h>

namespace fcnlab {
namespace models {
namespace detail {

/// The convolution of x (float32, CPU, N x C x H x W) with a 3x3 `weight`
/// and `bias` (may be undefined) as `layer` slides, by oneDNN's Winograd
/// F(4x4, 3x3), with the weight kept transformed in `cache`; the result has
/// channels-last strides. Large layers run in bands of rows, each with
/// buffers of a few MB; grouped layers (FCN-Alexnet's conv4, conv5) one
/// group after the other. An undefined tensor where it does not apply:
/// switched off, a kernel other than 3x3, stride or dilation other than 1,
/// fewer than 16 channels in or out per group (the direct algorithm wins
/// there), or no Winograd kernel in oneDNN for the layer on this CPU
/// (padding over 1, a CPU without AVX-512, say).
at::Tensor winograd_convolution(
    const ConvShape& layer,
    const at::Tensor& x,
    const at::Tensor& weight,
    const at::Tensor& bias,
    WeightCache& cache);

} // namespace detail
} // namespace models
} // namespace fcnlab
