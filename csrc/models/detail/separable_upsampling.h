#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace fcnlab {
namespace models {
namespace detail {

/// The out_size x in_size matrix of a 1-D transposed convolution with kernel
/// `profile` and `stride`, keeping outputs offset .. offset+out_size-1:
/// U[o][i] = profile[o + offset - stride*i] where that index is in range.
at::Tensor upsampling_matrix(
    const at::Tensor& profile,
    int64_t in_size,
    int64_t stride,
    int64_t offset,
    int64_t out_size);

/// A per-channel transposed convolution whose kernel is outer(profile,
/// profile), cropped to height x width at (offset_y, offset_x) of its full
/// output (add the deconvolution's pad to a crop offset), as two small matrix
/// products per channel: U_rows . x . U_cols^T. Same result as
/// conv_transpose2d(groups = channels) and a crop, without computing the
/// cropped-away border or looping over channels. Differentiable in x.
at::Tensor separable_upsample_crop(
    const at::Tensor& x,
    const at::Tensor& profile,
    int64_t stride,
    int64_t offset_y,
    int64_t offset_x,
    int64_t height,
    int64_t width);

} // namespace detail
} // namespace models
} // namespace fcnlab
