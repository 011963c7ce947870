#include "local_response_norm.h"

#include <ATen/Functions.h>

namespace fcnlab {
namespace models {
namespace detail {

at::Tensor local_response_norm(
    const at::Tensor& x,
    int64_t size,
    double alpha,
    double beta,
    double k) {
  const int64_t channels = x.size(1);
  const auto padded =
      at::constant_pad_nd(x.mul(x), {0, 0, 0, 0, size / 2, (size - 1) / 2});
  auto window = padded.narrow(1, 0, channels).clone();
  for (int64_t i = 1; i < size; ++i) {
    window.add_(padded.narrow(1, i, channels));
  }
  // pow out of place: its backward needs the scaled window it reads.
  return x.mul(
      window.mul_(alpha / static_cast<double>(size)).add_(k).pow(-beta));
}

} // namespace detail
} // namespace models
} // namespace fcnlab
