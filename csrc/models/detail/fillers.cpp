#include "fillers.h"

#include <fcnlab/models/bilinear.h>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/Exception.h>

#include <cmath>

namespace fcnlab {
namespace models {
namespace detail {
namespace {

double fan(const at::Tensor& tensor, const std::string& variance_norm) {
  const double count = static_cast<double>(tensor.numel());
  const double fan_in = tensor.dim() >= 1 ? count / tensor.size(0) : count;
  const double fan_out = tensor.dim() >= 2 ? count / tensor.size(1) : count;
  if (variance_norm == "FAN_OUT") {
    return fan_out;
  }
  if (variance_norm == "AVERAGE") {
    return (fan_in + fan_out) / 2;
  }
  return fan_in;
}

} // namespace

void fill(at::Tensor& tensor, const Filler& filler, const std::string& where) {
  const at::NoGradGuard no_grad;
  const std::string& type = filler.type;
  if (type == "constant") {
    tensor.fill_(filler.value);
  } else if (type == "gaussian") {
    tensor.normal_(filler.mean, filler.std);
  } else if (type == "uniform") {
    tensor.uniform_(filler.min, filler.max);
  } else if (type == "xavier") {
    const double scale = std::sqrt(3.0 / fan(tensor, filler.variance_norm));
    tensor.uniform_(-scale, scale);
  } else if (type == "msra") {
    tensor.normal_(0, std::sqrt(2.0 / fan(tensor, filler.variance_norm)));
  } else if (type == "bilinear") {
    TORCH_CHECK(
        tensor.dim() == 4 && tensor.size(2) == tensor.size(3),
        where,
        ": a bilinear filler needs a square 4-D kernel, got ",
        tensor.sizes());
    tensor.copy_(bilinear_kernel(tensor.size(2)).expand_as(tensor));
  } else {
    TORCH_CHECK(
        false,
        where,
        ": unknown filler type '",
        type,
        "' (constant, gaussian, uniform, xavier, msra, bilinear)");
  }
}

void fill_fixed_bilinear(at::Tensor& weight) {
  const at::NoGradGuard no_grad;
  const int64_t size = weight.size(2);
  if (weight.size(1) == 1) {
    weight.copy_(bilinear_kernel(size).expand_as(weight));
  } else if (weight.size(0) == weight.size(1)) {
    weight.copy_(diagonal_bilinear_weight(weight.size(0), size));
  } else {
    weight.copy_(bilinear_kernel(size).expand_as(weight));
  }
}

} // namespace detail
} // namespace models
} // namespace fcnlab
