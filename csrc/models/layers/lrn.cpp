// LRN across channels: LocalResponseNorm; the fast path sums the window of
// squares from shifted slices (detail/local_response_norm.h).
#include "../detail/local_response_norm.h"
#include "layer_def.h"
#include "layer_run.h"
#include "onnx_graph.h"

#include "caffe.pb.h"

#include <torch/nn/modules/normalization.h>
#include <torch/nn/options/normalization.h>

#include <c10/util/Exception.h>

namespace fcnlab {
namespace models {
namespace layers {
namespace lrn_impl {

void read(
    const ::caffe::LayerParameter& proto,
    LayerSpec& layer,
    const std::string& where) {
  const auto& p = proto.lrn_param();
  TORCH_CHECK(
      p.norm_region() == ::caffe::LRNParameter::ACROSS_CHANNELS,
      where,
      ": only ACROSS_CHANNELS LRN is supported");
  layer.lrn = {p.local_size(), p.alpha(), p.beta(), p.k()};
}

void write(const LayerSpec& layer, ::caffe::LayerParameter* out) {
  auto* p = out->mutable_lrn_param();
  p->set_local_size(static_cast<uint32_t>(layer.lrn.local_size));
  p->set_alpha(static_cast<float>(layer.lrn.alpha));
  p->set_beta(static_cast<float>(layer.lrn.beta));
  p->set_k(static_cast<float>(layer.lrn.k));
}

std::shared_ptr<torch::nn::Module> make_module(
    const LayerSpec& layer,
    int64_t /*in_channels*/,
    const std::string& /*where*/) {
  return torch::nn::LocalResponseNorm(
             torch::nn::LocalResponseNormOptions(layer.lrn.local_size)
                 .alpha(layer.lrn.alpha)
                 .beta(layer.lrn.beta)
                 .k(layer.lrn.k))
      .ptr();
}

at::Tensor forward(LayerRun& run) {
  const auto& lrn = run.layer.lrn;
  if (!run.fast) {
    return run.module->as<torch::nn::LocalResponseNormImpl>()->forward(
        run.in[0]);
  }
  const at::Tensor& x = run.in[0];
  if (x.scalar_type() == at::kBFloat16) {
    // bfloat16's 8 bits lose too much in the sums of squares and the power.
    return detail::local_response_norm(
               x.to(at::kFloat), lrn.local_size, lrn.alpha, lrn.beta, lrn.k)
        .to(at::kBFloat16);
  }
  return detail::local_response_norm(
      x, lrn.local_size, lrn.alpha, lrn.beta, lrn.k);
}

// ONNX's LRN divides alpha by the size as Caffe does.
std::string to_onnx(const OnnxLayer& l) {
  const LrnParams& p = l.layer.lrn;
  return l.node(
      "LRN",
      {l.in[0]},
      {{"size", p.local_size},
       {"alpha", static_cast<float>(p.alpha)},
       {"beta", static_cast<float>(p.beta)},
       {"bias", static_cast<float>(p.k)}});
}

} // namespace lrn_impl

LayerDef lrn_layer() {
  LayerDef def{LayerType::kLRN, "LRN"};
  def.read = lrn_impl::read;
  def.write = lrn_impl::write;
  def.make_module = lrn_impl::make_module;
  def.forward = lrn_impl::forward;
  def.to_onnx = lrn_impl::to_onnx;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
