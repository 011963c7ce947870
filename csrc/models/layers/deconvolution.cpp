// Deconvolution: ConvTranspose2d. FCN's fixed bilinear upsampling (square,
// no dilation) runs separably, together with the Crop that alone reads it.
#include <fcnlab/models/bilinear.h>

#include "../detail/convolution.h"
#include "../detail/separable_upsampling.h"
#include "convolution_params.h"
#include "layer_def.h"
#include "layer_run.h"
#include "onnx_graph.h"
#include "sliding_window.h"

#include <torch/nn/modules/conv.h>
#include <torch/nn/options/conv.h>

#include <c10/util/Exception.h>

namespace fcnlab {
namespace models {
namespace layers {
namespace deconvolution_impl {

std::shared_ptr<torch::nn::Module> make_module(
    const LayerSpec& layer,
    int64_t in_channels,
    const std::string& where) {
  auto module = torch::nn::ConvTranspose2d(
                    sliding(
                        torch::nn::ConvTranspose2dOptions(
                            in_channels, layer.convolution.num_output, 1),
                        layer))
                    .ptr();
  fill_convolution(*module, layer, where);
  return module;
}

at::Tensor forward(LayerRun& run) {
  const LayerSpec& layer = run.layer;
  const at::Tensor& x = run.in[0];
  auto& deconv = *run.module->as<torch::nn::ConvTranspose2dImpl>();
  const Window& w = layer.convolution.window;
  const bool separable = run.fast && w.kernel_h == w.kernel_w &&
      w.stride_h == w.stride_w && w.dilation_h == 1 && w.dilation_w == 1 &&
      w.pad_h == w.pad_w &&
      run.weights.is_bilinear(
          layer.name, deconv.weight, layer.convolution.group);
  if (!separable) {
    return deconv.forward(x, c10::nullopt);
  }
  const int64_t full_h = (x.size(2) - 1) * w.stride_h + w.kernel_h;
  const int64_t full_w = (x.size(3) - 1) * w.stride_w + w.kernel_w;
  int64_t top = w.pad_h;
  int64_t left = w.pad_w;
  int64_t height = full_h - 2 * w.pad_h;
  int64_t width = full_w - 2 * w.pad_w;
  if (run.crop_to_fold && run.crop_reference) {
    const LayerSpec& crop = *run.crop_to_fold;
    const at::Tensor& ref = *run.crop_reference;
    const auto [off_y, off_x] = run.crop_offsets.at(crop.name);
    check_crop_fits(
        run.net.where(crop),
        layer.tops[0],
        height,
        width,
        ref.size(2),
        ref.size(3),
        off_y,
        off_x);
    top += off_y;
    left += off_x;
    height = ref.size(2);
    width = ref.size(3);
    run.folded_crop = true;
  }
  auto y = detail::separable_upsample_crop(
      x, bilinear_profile(w.kernel_h), w.stride_h, top, left, height, width);
  if (deconv.bias.defined()) {
    y = y + deconv.bias.to(y.scalar_type()).view({1, -1, 1, 1});
  }
  return y;
}

LayerGeometry geometry(const LayerSpec& layer, int axis) {
  return window_geometry(
      layer.name, layer.convolution.window, LayerKind::kDeconvolution, axis);
}

int64_t transposed_size(int64_t in, const LayerGeometry& window) {
  return window.stride * (in - 1) + window.kernel - 2 * window.pad;
}

PlaneSize output_size(
    const LayerSpec& layer,
    const std::vector<PlaneSize>& in) {
  return {
      transposed_size(in[0].height, geometry(layer, 0)),
      transposed_size(in[0].width, geometry(layer, 1))};
}

// Every input element scatters a kernel into its group's outputs.
double flops(PlaneSize in, PlaneSize, int64_t weights) {
  return 2.0 * static_cast<double>(weights) * in.height * in.width;
}

std::string to_onnx(const OnnxLayer& l) {
  return convolution_to_onnx(l, "ConvTranspose");
}

} // namespace deconvolution_impl

LayerDef deconvolution_layer() {
  LayerDef def{LayerType::kDeconvolution, "Deconvolution"};
  def.read = read_convolution;
  def.write = write_convolution;
  def.out_channels = convolution_channels;
  def.parameter_sizes = convolution_parameter_sizes;
  def.geometry = deconvolution_impl::geometry;
  def.output_size = deconvolution_impl::output_size;
  def.flops = deconvolution_impl::flops;
  def.make_module = deconvolution_impl::make_module;
  def.forward = deconvolution_impl::forward;
  def.folds_next_crop = true;
  def.to_onnx = deconvolution_impl::to_onnx;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
