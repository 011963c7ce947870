#include <fcnlab/models/layers/scale.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

namespace fcnlab {
namespace models {

ScaleImpl::ScaleImpl(int64_t channels_, bool bias)
    : channels(channels_), with_bias(bias) {
  reset();
}

void ScaleImpl::reset() {
  weight = register_parameter("weight", torch::ones({channels}));
  if (with_bias) {
    this->bias = register_parameter("bias", torch::zeros({channels}));
  }
}

torch::Tensor ScaleImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK_VALUE(
      x.dim() >= 2 && x.size(1) == channels,
      "Scale expects N x ",
      channels,
      " x ..., got shape ",
      x.sizes());
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[1] = channels;
  auto y = x * weight.view(shape);
  return with_bias ? y + bias.view(shape) : y;
}

} // namespace models
} // namespace fcnlab
