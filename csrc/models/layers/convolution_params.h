#pragma once

#include <fcnlab/models/net_spec.h>

#include "caffe.pb.h"

#include "sliding_window.h"

#include <cstdint>
#include <string>
#include <vector>

namespace torch {
namespace nn {
class Module;
} // namespace nn
} // namespace torch

namespace fcnlab {
namespace models {
namespace layers {

// What Convolution and Deconvolution share: Caffe's ConvolutionParameter,
// the channel checks, the parameter blobs and their fillers.

struct OnnxLayer;

/// The layer as one ONNX `op_type` node (Conv or ConvTranspose: Caffe's
/// weight layouts and output sizes are ONNX's) with its weights and bias.
std::string convolution_to_onnx(const OnnxLayer& layer, const char* op_type);

void read_convolution(
    const ::caffe::LayerParameter& proto,
    LayerSpec& layer,
    const std::string& where);
void write_convolution(const LayerSpec& layer, ::caffe::LayerParameter* out);

/// num_output, after checking it and that the groups divide both sides.
int64_t convolution_channels(
    const NetSpec& spec,
    const LayerSpec& layer,
    const std::vector<int64_t>& in);

/// num_output x in/group x kernel_h x kernel_w weights, then num_output
/// biases when bias_term.
std::vector<int64_t> convolution_parameter_sizes(
    const LayerSpec& layer,
    int64_t in_channels);

/// Fills weight (the weight filler; unset: zero, or FCN's fixed bilinear
/// kernel for a Deconvolution with lr_mult 0) and bias (the bias filler).
void fill_convolution(
    torch::nn::Module& module,
    const LayerSpec& layer,
    const std::string& where);

/// Kernel, stride, pad, dilation, groups and bias of Conv2dOptions or
/// ConvTranspose2dOptions.
template <typename Options>
Options sliding(Options options, const LayerSpec& layer) {
  const auto& conv = layer.convolution;
  const Window& w = conv.window;
  return options.kernel_size(height_width(w.kernel_h, w.kernel_w))
      .stride(height_width(w.stride_h, w.stride_w))
      .padding(height_width(w.pad_h, w.pad_w))
      .dilation(height_width(w.dilation_h, w.dilation_w))
      .groups(conv.group)
      .bias(conv.bias_term);
}

} // namespace layers
} // namespace models
} // namespace fcnlab
