// Convolution: Conv2d; without a gradient on CPU, the fast path of
// detail/convolution.h (cached oneDNN weights, GEMMs for 1x1 layers).
#include "../detail/convolution.h"
#include "convolution_params.h"
#include "layer_def.h"
#include "layer_run.h"
#include "onnx_graph.h"
#include "sliding_window.h"

#include <torch/nn/modules/conv.h>
#include <torch/nn/options/conv.h>

namespace fcnlab {
namespace models {
namespace layers {
namespace convolution_impl {

std::shared_ptr<torch::nn::Module> make_module(
    const LayerSpec& layer,
    int64_t in_channels,
    const std::string& where) {
  auto module =
      torch::nn::Conv2d(sliding(
                            torch::nn::Conv2dOptions(
                                in_channels, layer.convolution.num_output, 1),
                            layer))
          .ptr();
  fill_convolution(*module, layer, where);
  return module;
}

at::Tensor forward(LayerRun& run) {
  auto& conv = *run.module->as<torch::nn::Conv2dImpl>();
  if (!run.fast) {
    return conv.forward(run.in[0]);
  }
  const Window& w = run.layer.convolution.window;
  const detail::ConvShape shape{
      run.layer.name,
      {w.pad_h, w.pad_w},
      {w.stride_h, w.stride_w},
      {w.dilation_h, w.dilation_w},
      run.layer.convolution.group};
  return detail::convolve(shape, conv, run.in[0], run.weights);
}

LayerGeometry geometry(const LayerSpec& layer, int axis) {
  return window_geometry(
      layer.name, layer.convolution.window, LayerKind::kWindow, axis);
}

PlaneSize output_size(
    const LayerSpec& layer,
    const std::vector<PlaneSize>& in) {
  return {
      window_count(in[0].height, geometry(layer, 0), false, false),
      window_count(in[0].width, geometry(layer, 1), false, false)};
}

// Each output position takes every weight once.
double flops(PlaneSize, PlaneSize out, int64_t weights) {
  return 2.0 * static_cast<double>(weights) * out.height * out.width;
}

std::string to_onnx(const OnnxLayer& l) {
  return convolution_to_onnx(l, "Conv");
}

} // namespace convolution_impl

LayerDef convolution_layer() {
  LayerDef def{LayerType::kConvolution, "Convolution"};
  def.read = read_convolution;
  def.write = write_convolution;
  def.out_channels = convolution_channels;
  def.parameter_sizes = convolution_parameter_sizes;
  def.geometry = convolution_impl::geometry;
  def.output_size = convolution_impl::output_size;
  def.flops = convolution_impl::flops;
  def.make_module = convolution_impl::make_module;
  def.forward = convolution_impl::forward;
  def.fresh_output = true;
  def.to_onnx = convolution_impl::to_onnx;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
