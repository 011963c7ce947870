// Scale: a learned or fixed factor per channel (and a bias), the ScaleImpl
// module of fcnlab/models/layers/scale.h.
#include <fcnlab/models/layers/scale.h>

#include "../detail/fillers.h"
#include "caffe_fields.h"
#include "layer_def.h"
#include "layer_run.h"
#include "onnx_graph.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

namespace fcnlab {
namespace models {

ScaleImpl::ScaleImpl(int64_t channels_, bool bias)
    : channels(channels_), with_bias(bias) {
  reset();
}

void ScaleImpl::reset() {
  weight = register_parameter("weight", torch::ones({channels}));
  if (with_bias) {
    this->bias = register_parameter("bias", torch::zeros({channels}));
  }
}

torch::Tensor ScaleImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK_VALUE(
      x.dim() >= 2 && x.size(1) == channels,
      "Scale expects N x ",
      channels,
      " x ..., got shape ",
      x.sizes());
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[1] = channels;
  auto y = x * weight.view(shape);
  return with_bias ? y + bias.view(shape) : y;
}

namespace layers {
namespace scale_impl {

void read(
    const ::caffe::LayerParameter& proto,
    LayerSpec& layer,
    const std::string& where) {
  const auto& p = proto.scale_param();
  TORCH_CHECK(
      proto.bottom_size() == 1,
      where,
      ": a Scale layer with a second bottom (a blob as the factor) is "
      "not supported");
  layer.scale.axis = blob_axis(p.axis());
  layer.scale.num_axes = p.num_axes();
  if (p.has_filler()) {
    layer.scale.filler = read_filler(p.filler());
  }
  layer.scale.bias_term = p.bias_term();
  if (p.has_bias_filler()) {
    layer.scale.bias_filler = read_filler(p.bias_filler());
  }
}

void write(const LayerSpec& layer, ::caffe::LayerParameter* out) {
  auto* p = out->mutable_scale_param();
  const auto& scale = layer.scale;
  if (scale.axis != 1) {
    p->set_axis(static_cast<int32_t>(scale.axis));
  }
  if (scale.num_axes != 1) {
    p->set_num_axes(static_cast<int32_t>(scale.num_axes));
  }
  write_filler(scale.filler, p->mutable_filler());
  if (scale.bias_term) {
    p->set_bias_term(true);
    write_filler(scale.bias_filler, p->mutable_bias_filler());
  }
}

int64_t out_channels(
    const NetSpec& spec,
    const LayerSpec& layer,
    const std::vector<int64_t>& in) {
  TORCH_CHECK(
      layer.scale.axis == 1 && layer.scale.num_axes == 1,
      spec.where(layer),
      ": Scale supports axis 1, num_axes 1 (one value per channel)");
  return in[0];
}

std::vector<int64_t> parameter_sizes(
    const LayerSpec& layer,
    int64_t in_channels) {
  return layer.scale.bias_term ? std::vector<int64_t>{in_channels, in_channels}
                               : std::vector<int64_t>{in_channels};
}

std::shared_ptr<torch::nn::Module> make_module(
    const LayerSpec& layer,
    int64_t in_channels,
    const std::string& where) {
  auto module = Scale(in_channels, layer.scale.bias_term).ptr();
  detail::fill(module->weight, layer.scale.filler, where);
  if (layer.scale.bias_term) {
    detail::fill(module->bias, layer.scale.bias_filler, where);
  }
  return module;
}

at::Tensor forward(LayerRun& run) {
  return run.module->as<ScaleImpl>()->forward(run.in[0]);
}

std::string to_onnx(const OnnxLayer& l) {
  const at::Tensor weight = l.parameter("weight");
  const int64_t channels = weight.numel();
  const std::string factors =
      l.constant("weight", weight.view({1, channels, 1, 1}));
  if (!l.layer.scale.bias_term) {
    return l.node("Mul", {l.in[0], factors});
  }
  const std::string scaled = l.step("scaled", "Mul", {l.in[0], factors});
  return l.node(
      "Add",
      {scaled,
       l.constant("bias", l.parameter("bias").view({1, channels, 1, 1}))});
}

} // namespace scale_impl

LayerDef scale_layer() {
  LayerDef def{LayerType::kScale, "Scale"};
  def.read = scale_impl::read;
  def.write = scale_impl::write;
  def.out_channels = scale_impl::out_channels;
  def.parameter_sizes = scale_impl::parameter_sizes;
  def.make_module = scale_impl::make_module;
  def.forward = scale_impl::forward;
  def.to_onnx = scale_impl::to_onnx;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
