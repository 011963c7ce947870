#pragma once

#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/coord_map.h>
#include <fcnlab/models/net_spec.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fcnlab {
namespace models {

/// One row of a network summary (DIGITS' "Visualize", in text).
struct LayerSummary {
  std::string name;
  std::string type;                  ///< Caffe layer type
  std::vector<int64_t> output_shape; ///< C, H, W for one image
  int64_t learnable_parameters = 0;
  int64_t fixed_parameters = 0; ///< lr_mult 0, e.g. a bilinear upsampling
  double flops = 0;             ///< 2 x multiply-adds, biases not counted
  /// This layer's output row u -> input row (height axis); unset after a
  /// global pooling.
  bool has_map = true;
  CoordMap to_image;
};

/// A Crop layer's derived offset.
struct CropSummary {
  std::string layer;
  std::string cropped;   ///< bottom[0]
  std::string reference; ///< bottom[1]
  int64_t offset_h = 0;
  int64_t offset_w = 0;
};

/// The whole network at one input size, computed from the description alone
/// (no tensors are allocated).
struct NetworkSummary {
  std::string name;
  int64_t input_height = 0;
  int64_t input_width = 0;
  std::vector<LayerSummary> layers;
  int64_t learnable_parameters = 0;
  int64_t fixed_parameters = 0;
  double flops = 0;
  /// Every Crop layer, in order.
  std::vector<CropSummary> crops;
  /// Height offset of the crop that produces the output (0 without one).
  int64_t crop_offset = 0;
  /// The description's notes (NetSpec::notes).
  std::vector<std::string> notes;

  /// A fixed-width text table with totals and the crop derivations.
  std::string to_string() const;
};

/// Summarizes `spec` on a height x width image. Throws c10::ValueError for
/// sizes < 1, or when a layer is left without output or a crop without room.
NetworkSummary summarize(const NetSpec& spec, int64_t height, int64_t width);

/// The input size to describe `spec` at when none is asked for: the size
/// it declares, or 500x500 (which fits every built-in net).
std::pair<int64_t, int64_t> default_input_size(const NetSpec& spec);

/// summarize() of FCN-Alexnet with `options`.
NetworkSummary summarize(
    const FcnAlexNetOptions& options,
    int64_t height,
    int64_t width);

} // namespace models
} // namespace fcnlab
