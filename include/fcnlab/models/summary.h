#pragma once

#include <fcnlab/models/crop.h>
#include <fcnlab/models/fcn_alexnet.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fcnlab {
namespace models {

/// One row of a network summary (DIGITS' "Visualize", in text).
struct LayerSummary {
  std::string name;
  std::string type;                  ///< Caffe layer type
  std::vector<int64_t> output_shape; ///< C, H, W for one image
  int64_t learnable_parameters = 0;
  int64_t fixed_parameters = 0; ///< e.g. the bilinear upscore kernel
  double flops = 0;             ///< 2 x multiply-adds, biases not counted
  CoordMap to_image; ///< this layer's output position -> image position
};

/// The whole network at one input size, computed from the layer table alone
/// (no tensors are allocated).
struct NetworkSummary {
  int64_t input_height = 0;
  int64_t input_width = 0;
  std::vector<LayerSummary> layers;
  int64_t learnable_parameters = 0;
  int64_t fixed_parameters = 0;
  double flops = 0;
  int64_t crop_offset = 0;

  /// A fixed-width text table with totals and the crop derivation.
  std::string to_string() const;
};

/// Summarizes FCN-Alexnet with `options` on a height x width image. Throws
/// c10::ValueError for sizes < 1.
NetworkSummary summarize(
    const FcnAlexNetOptions& options,
    int64_t height,
    int64_t width);

} // namespace models
} // namespace fcnlab
