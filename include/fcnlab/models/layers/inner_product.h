#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace fcnlab {
namespace models {

/// Caffe's InnerProduct over axis 1: each item's values (C x H x W, read in
/// C, H, W order) times a weight matrix, plus a bias. Parameters "weight"
/// (outputs x inputs, or inputs x outputs when transposed, as Caffe's
/// `transpose` stores it) and "bias" (outputs), as Caffe's blobs.
class InnerProductImpl : public torch::nn::Cloneable<InnerProductImpl> {
 public:
  InnerProductImpl(int64_t inputs, int64_t outputs, bool bias, bool transpose);

  /// Creates weight and bias as zeros (Caffe's default fillers).
  void reset() override;

  /// N x ... with inputs values per item -> N x outputs. Throws
  /// c10::ValueError for another count.
  torch::Tensor forward(const torch::Tensor& x);

  int64_t inputs;
  int64_t outputs;
  bool with_bias;
  bool transposed;
  torch::Tensor weight;
  torch::Tensor bias;
};

TORCH_MODULE(InnerProduct);

} // namespace models
} // namespace fcnlab
