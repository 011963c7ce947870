#pragma once

namespace fcnlab {

/// Whether float32 inference on the CPU runs 3x3, stride-1 convolutions
/// (all but VGG16's first, FCN-Alexnet's conv3-conv5) by oneDNN's Winograd
/// F(4x4, 3x3) algorithm, which needs a quarter of the multiplications of
/// the direct one: FCN-8s inference takes about half the time, for about
/// 270 MB more memory (the transformed weights). Its results differ from
/// the direct convolution's by rounding, about 1e-6 of the largest output
/// per layer. On by default where the build has oneDNN; layers oneDNN has
/// no Winograd kernel for (too few channels, padding over 1, a CPU without
/// AVX-512) keep the direct algorithm. Training and bfloat16 always use
/// the direct one. Process-wide.
bool winograd_convolutions();

/// Turns the above on or off (off: every convolution as LibTorch computes
/// it). Returns whether it is now on, which stays false in a build without
/// oneDNN.
bool set_winograd_convolutions(bool enabled);

} // namespace fcnlab
