#include "separable_upsampling.h"

#include <ATen/Functions.h>

namespace fcnlab {
namespace models {
namespace detail {

at::Tensor upsampling_matrix(
    const at::Tensor& profile,
    int64_t in_size,
    int64_t stride,
    int64_t offset,
    int64_t out_size) {
  const int64_t kernel = profile.size(0);
  const auto index = at::TensorOptions(at::kLong).device(profile.device());
  // tap[o][i]: the kernel element input i contributes to output o with.
  const auto tap =
      at::arange(offset, offset + out_size, index)
          .unsqueeze(1)
          .sub(at::arange(in_size, index).unsqueeze(0).mul(stride));
  const auto inside = tap.ge(0).logical_and(tap.lt(kernel));
  const auto weights =
      profile.index_select(0, tap.clamp(0, kernel - 1).flatten())
          .view({out_size, in_size});
  return weights.mul(inside.to(profile.scalar_type()));
}

at::Tensor separable_upsample_crop(
    const at::Tensor& x,
    const at::Tensor& profile,
    int64_t stride,
    int64_t offset_y,
    int64_t offset_x,
    int64_t height,
    int64_t width) {
  const auto kernel = profile.to(x.options());
  const auto rows =
      upsampling_matrix(kernel, x.size(2), stride, offset_y, height);
  const auto cols =
      upsampling_matrix(kernel, x.size(3), stride, offset_x, width);
  const int64_t maps = x.size(0) * x.size(1);
  // Columns first, as one GEMM over all maps: the small input side keeps it
  // small. Then one batched product per map; an explicit bmm over expanded
  // rows is several times faster than broadcasting matmul here.
  const auto widened =
      at::matmul(x.reshape({maps, x.size(2), x.size(3)}), cols.t());
  return at::bmm(rows.expand({maps, height, x.size(2)}), widened)
      .view({x.size(0), x.size(1), height, width});
}

} // namespace detail
} // namespace models
} // namespace fcnlab
