#include "convolution_params.h"

#include "../detail/fillers.h"
#include "caffe_fields.h"
#include "onnx_graph.h"

#include <torch/nn/module.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <limits>

namespace fcnlab {
namespace models {
namespace layers {
namespace {

int64_t saturating_product(std::initializer_list<int64_t> factors) {
  int64_t product = 1;
  for (const int64_t factor : factors) {
    if (__builtin_mul_overflow(product, factor, &product)) {
      return std::numeric_limits<int64_t>::max();
    }
  }
  return product;
}

} // namespace

std::string convolution_to_onnx(const OnnxLayer& l, const char* op_type) {
  const auto& c = l.layer.convolution;
  std::vector<std::string> inputs{
      l.in[0], l.constant("weight", l.parameter("weight"))};
  if (c.bias_term) {
    inputs.push_back(l.constant("bias", l.parameter("bias")));
  }
  auto attributes = window_attributes(c.window, /*with_dilations=*/true);
  attributes.emplace_back("group", c.group);
  return l.node(op_type, std::move(inputs), std::move(attributes));
}

void read_convolution(
    const ::caffe::LayerParameter& proto,
    LayerSpec& layer,
    const std::string& where) {
  const auto& p = proto.convolution_param();
  auto& conv = layer.convolution;
  conv.num_output = p.num_output();
  conv.window = read_convolution_window(p);
  check_steps(conv.window, where);
  conv.group = p.group();
  conv.bias_term = p.bias_term();
  if (p.has_weight_filler()) {
    conv.weight_filler = read_filler(p.weight_filler());
  }
  if (p.has_bias_filler()) {
    conv.bias_filler = read_filler(p.bias_filler());
  }
  TORCH_CHECK(
      p.axis() == 1, where, ": convolution axis must be 1, got ", p.axis());
}

void write_convolution(const LayerSpec& layer, ::caffe::LayerParameter* out) {
  auto* p = out->mutable_convolution_param();
  const auto& conv = layer.convolution;
  p->set_num_output(static_cast<uint32_t>(conv.num_output));
  if (!conv.bias_term) {
    p->set_bias_term(false);
  }
  write_convolution_window(conv.window, p);
  if (conv.group != 1) {
    p->set_group(static_cast<uint32_t>(conv.group));
  }
  if (conv.weight_filler) {
    write_filler(*conv.weight_filler, p->mutable_weight_filler());
  }
  const bool zero_bias =
      conv.bias_filler.type == "constant" && conv.bias_filler.value == 0;
  if (conv.bias_term && !zero_bias) {
    write_filler(conv.bias_filler, p->mutable_bias_filler());
  }
}

int64_t convolution_channels(
    const NetSpec& spec,
    const LayerSpec& layer,
    const std::vector<int64_t>& in) {
  const auto& conv = layer.convolution;
  TORCH_CHECK(
      conv.num_output >= 1,
      spec.where(layer),
      ": num_output must be >= 1, got ",
      conv.num_output);
  TORCH_CHECK(
      conv.group >= 1 && in[0] % conv.group == 0 &&
          conv.num_output % conv.group == 0,
      spec.where(layer),
      ": group ",
      conv.group,
      " must divide its ",
      in[0],
      " input channels and ",
      conv.num_output,
      " outputs");
  return conv.num_output;
}

std::vector<int64_t> convolution_parameter_sizes(
    const LayerSpec& layer,
    int64_t in_channels) {
  const auto& conv = layer.convolution;
  const Window& w = conv.window;
  const int64_t weights = saturating_product(
      {conv.num_output,
       in_channels / std::max<int64_t>(conv.group, 1),
       w.kernel_h,
       w.kernel_w});
  return conv.bias_term ? std::vector<int64_t>{weights, conv.num_output}
                        : std::vector<int64_t>{weights};
}

void fill_convolution(
    torch::nn::Module& module,
    const LayerSpec& layer,
    const std::string& where) {
  for (auto& pair : module.named_parameters(/*recurse=*/false)) {
    auto& tensor = pair.value();
    const auto& conv = layer.convolution;
    if (pair.key() != "weight") {
      detail::fill(tensor, conv.bias_filler, where);
    } else if (conv.weight_filler) {
      detail::fill(tensor, *conv.weight_filler, where);
    } else if (
        layer.type == LayerType::kDeconvolution &&
        layer.param(0).lr_mult == 0) {
      detail::fill_fixed_bilinear(tensor);
    } else {
      detail::fill(tensor, Filler{}, where);
    }
  }
}

} // namespace layers
} // namespace models
} // namespace fcnlab
