#pragma once

#include <fcnlab/models/net_spec.h>

#include <ATen/core/Tensor.h>

#include <string>

namespace fcnlab {
namespace models {
namespace detail {

/// Fills `tensor` in place as Caffe's filler would, with fan_in = count /
/// dim 0 and fan_out = count / dim 1 (Caffe's num and channels):
/// constant value; gaussian N(mean, std); uniform U(min, max); xavier
/// U(+-sqrt(3/n)); msra N(0, sqrt(2/n)), n from variance_norm; bilinear
/// puts the upsampling kernel into every (out, in) slice. Throws
/// c10::Error naming `where` for an unknown type.
void fill(at::Tensor& tensor, const Filler& filler, const std::string& where);

/// FCN's interp surgery on a deconvolution weight (C_in x C_out/groups x k x
/// k): the bilinear kernel on the diagonal when C_in == C_out, in every
/// slice when each group has one output; zeros elsewhere.
void fill_fixed_bilinear(at::Tensor& weight);

} // namespace detail
} // namespace models
} // namespace fcnlab
