#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace fcnlab {
namespace models {
namespace detail {

/// Caffe's across-channel LRN, as LibTorch's local_response_norm computes it:
/// x / (k + alpha/size * sum of x^2 over channels c - size/2 ..
/// c + (size-1)/2)^beta. The window is summed as shifted slices of the
/// channel-padded squares rather than by a 3-D average pooling, which takes
/// several times longer on CPU. Differentiable in x.
at::Tensor local_response_norm(
    const at::Tensor& x,
    int64_t size,
    double alpha,
    double beta,
    double k);

} // namespace detail
} // namespace models
} // namespace fcnlab
