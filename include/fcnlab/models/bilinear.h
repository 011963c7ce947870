#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace fcnlab {
namespace models {

/// One axis of the bilinear kernel: 1 - |x/f - c| for x in 0..size-1, with
/// f = ceil(size/2) and c = (size-1)/(2f). Float32 CPU tensor of shape (size).
/// Throws for size < 1.
at::Tensor bilinear_profile(int64_t size);

/// The size x size bilinear interpolation kernel of FCN's upsampling layers:
/// f = ceil(size/2), c = (size-1)/(2f), w(x,y) = (1-|x/f-c|)(1-|y/f-c|).
/// Returns a float32 CPU tensor of shape (size, size). Throws for size < 1.
at::Tensor bilinear_kernel(int64_t size);

/// Weights of a per-channel (groups = channels) transposed convolution that
/// upsamples bilinearly: shape (channels, 1, size, size), float32, CPU.
at::Tensor bilinear_upsampling_weight(int64_t channels, int64_t size);

/// Weights of an ungrouped transposed convolution that upsamples each channel
/// bilinearly on its own (FCN's interp surgery): shape (channels, channels,
/// size, size) with the kernel on the diagonal and zeros elsewhere.
at::Tensor diagonal_bilinear_weight(int64_t channels, int64_t size);

} // namespace models
} // namespace fcnlab
