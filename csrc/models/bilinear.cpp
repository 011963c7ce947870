#include <fcnlab/models/bilinear.h>

#include <ATen/Functions.h>
#include <c10/util/Exception.h>

namespace fcnlab {
namespace models {

namespace {

at::Tensor profile_in_double(int64_t size) {
  TORCH_CHECK_VALUE(size >= 1, "bilinear kernel size must be >= 1, got ", size);
  const int64_t factor = (size + 1) / 2;
  const double center = static_cast<double>(size - 1) / (2.0 * factor);
  const auto positions = at::arange(size, at::kDouble);
  // 1 - |x/f - c| along one axis; the kernel is its outer product.
  const auto profile = positions.div(static_cast<double>(factor))
                           .sub(center)
                           .abs()
                           .neg()
                           .add(1.0);
  return profile;
}

} // namespace

at::Tensor bilinear_profile(int64_t size) {
  return profile_in_double(size).to(at::kFloat);
}

at::Tensor bilinear_kernel(int64_t size) {
  const auto profile = profile_in_double(size);
  return at::outer(profile, profile).to(at::kFloat);
}

at::Tensor bilinear_upsampling_weight(int64_t channels, int64_t size) {
  TORCH_CHECK_VALUE(
      channels >= 1, "bilinear upsampling needs channels >= 1, got ", channels);
  return bilinear_kernel(size).expand({channels, 1, size, size}).contiguous();
}

at::Tensor diagonal_bilinear_weight(int64_t channels, int64_t size) {
  const auto kernel = bilinear_kernel(size);
  auto weight = at::zeros({channels, channels, size, size});
  for (int64_t c = 0; c < channels; ++c) {
    weight[c][c].copy_(kernel);
  }
  return weight;
}

} // namespace models
} // namespace fcnlab
