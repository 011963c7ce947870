// InnerProduct: every value of an item to num_output values, kept as an
// N x num_output x 1 x 1 blob so that the layers after it see a plane.
#include <fcnlab/models/layers/inner_product.h>

#include "../detail/fillers.h"
#include "caffe_fields.h"
#include "layer_def.h"
#include "layer_run.h"
#include "onnx_graph.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <limits>

namespace fcnlab {
namespace models {

InnerProductImpl::InnerProductImpl(
    int64_t inputs_,
    int64_t outputs_,
    bool bias,
    bool transpose)
    : inputs(inputs_),
      outputs(outputs_),
      with_bias(bias),
      transposed(transpose) {
  reset();
}

void InnerProductImpl::reset() {
  weight = register_parameter(
      "weight",
      transposed ? torch::zeros({inputs, outputs})
                 : torch::zeros({outputs, inputs}));
  if (with_bias) {
    bias = register_parameter("bias", torch::zeros({outputs}));
  }
}

torch::Tensor InnerProductImpl::forward(const torch::Tensor& x) {
  const auto flat = x.reshape({x.size(0), -1});
  TORCH_CHECK_VALUE(
      flat.size(1) == inputs,
      "InnerProduct takes ",
      inputs,
      " values per item, got shape ",
      x.sizes());
  if (!transposed) {
    return with_bias ? at::linear(flat, weight, bias)
                     : at::linear(flat, weight);
  }
  return with_bias ? at::addmm(bias, flat, weight) : at::mm(flat, weight);
}

namespace layers {
namespace inner_product_impl {

void read(
    const ::caffe::LayerParameter& proto,
    LayerSpec& layer,
    const std::string& where) {
  const auto& p = proto.inner_product_param();
  TORCH_CHECK(
      blob_axis(p.axis()) == 1,
      where,
      ": InnerProduct runs over axis 1 (each item's C x H x W), got axis ",
      p.axis());
  auto& ip = layer.inner_product;
  ip.num_output = p.num_output();
  TORCH_CHECK(
      ip.num_output >= 1, where, ": InnerProduct needs num_output >= 1");
  ip.bias_term = p.bias_term();
  ip.transpose = p.transpose();
  ip.weight_filler = read_filler(p.weight_filler());
  ip.bias_filler = read_filler(p.bias_filler());
}

void write(const LayerSpec& layer, ::caffe::LayerParameter* out) {
  auto* p = out->mutable_inner_product_param();
  const auto& ip = layer.inner_product;
  p->set_num_output(static_cast<uint32_t>(ip.num_output));
  if (!ip.bias_term) {
    p->set_bias_term(false);
  }
  if (ip.transpose) {
    p->set_transpose(true);
  }
  write_filler(ip.weight_filler, p->mutable_weight_filler());
  if (ip.bias_term) {
    write_filler(ip.bias_filler, p->mutable_bias_filler());
  }
}

int64_t out_channels(
    const NetSpec& /*spec*/,
    const LayerSpec& layer,
    const std::vector<int64_t>& /*in*/) {
  return layer.inner_product.num_output;
}

std::vector<int64_t> parameter_sizes(const LayerSpec& layer, int64_t inputs) {
  const int64_t outputs = layer.inner_product.num_output;
  int64_t weights = 0;
  if (__builtin_mul_overflow(inputs, outputs, &weights)) {
    weights = std::numeric_limits<int64_t>::max();
  }
  return layer.inner_product.bias_term ? std::vector<int64_t>{weights, outputs}
                                       : std::vector<int64_t>{weights};
}

double flops(PlaneSize, PlaneSize, int64_t weights) {
  return 2.0 * static_cast<double>(weights);
}

std::shared_ptr<torch::nn::Module> make_module(
    const LayerSpec& layer,
    int64_t inputs,
    const std::string& where) {
  const auto& ip = layer.inner_product;
  auto module =
      InnerProduct(inputs, ip.num_output, ip.bias_term, ip.transpose).ptr();
  detail::fill(module->weight, ip.weight_filler, where);
  if (ip.bias_term) {
    detail::fill(module->bias, ip.bias_filler, where);
  }
  return module;
}

at::Tensor forward(LayerRun& run) {
  auto& module = *run.module->as<InnerProductImpl>();
  const at::Tensor& x = run.in[0];
  const int64_t given = x.numel() / std::max<int64_t>(x.size(0), 1);
  TORCH_CHECK_VALUE(
      x.size(0) == 0 || given == module.inputs,
      run.net.where(run.layer),
      ": InnerProduct takes ",
      module.inputs,
      " values per image (its bottom ",
      run.layer.bottoms[0],
      " at the declared input ",
      run.net.input_height,
      "x",
      run.net.input_width,
      "), got ",
      x.sizes().slice(1),
      " = ",
      given,
      "; a classifier runs at its declared size only (`fcnlab "
      "convolutionalize` makes it run at any size)");
  return module.forward(x).view({x.size(0), module.outputs, 1, 1});
}

// Flatten, Gemm with the weights as stored, and back to N x O x 1 x 1.
std::string to_onnx(const OnnxLayer& l) {
  const InnerProductParams& p = l.layer.inner_product;
  const std::string flat =
      l.step("flatten", "Flatten", {l.in[0]}, {{"axis", int64_t{1}}});
  std::vector<std::string> inputs{
      flat, l.constant("weight", l.parameter("weight"))};
  if (p.bias_term) {
    inputs.push_back(l.constant("bias", l.parameter("bias")));
  }
  const std::string product = l.step(
      "gemm",
      "Gemm",
      std::move(inputs),
      {{"transB", int64_t{p.transpose ? 0 : 1}}});
  return l.node("Reshape", {product, l.ints("shape", {0, -1, 1, 1})});
}

} // namespace inner_product_impl

LayerDef inner_product_layer() {
  LayerDef def{LayerType::kInnerProduct, "InnerProduct"};
  def.read = inner_product_impl::read;
  def.write = inner_product_impl::write;
  def.out_channels = inner_product_impl::out_channels;
  def.parameter_sizes = inner_product_impl::parameter_sizes;
  def.flops = inner_product_impl::flops;
  def.make_module = inner_product_impl::make_module;
  def.forward = inner_product_impl::forward;
  def.fresh_output = true;
  def.reads_whole_plane = true;
  def.to_onnx = inner_product_impl::to_onnx;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
