// Dropout: a Dropout module, so that train()/eval() switch it.
#include "layer_def.h"
#include "layer_run.h"
#include "onnx_graph.h"

#include "caffe.pb.h"

#include <torch/nn/modules/dropout.h>
#include <torch/nn/options/dropout.h>

namespace fcnlab {
namespace models {
namespace layers {
namespace dropout_impl {

void read(
    const ::caffe::LayerParameter& proto,
    LayerSpec& layer,
    const std::string& /*where*/) {
  layer.dropout_ratio = proto.dropout_param().dropout_ratio();
}

void write(const LayerSpec& layer, ::caffe::LayerParameter* out) {
  out->mutable_dropout_param()->set_dropout_ratio(
      static_cast<float>(layer.dropout_ratio));
}

std::shared_ptr<torch::nn::Module> make_module(
    const LayerSpec& layer,
    int64_t /*in_channels*/,
    const std::string& /*where*/) {
  return torch::nn::Dropout(torch::nn::DropoutOptions(layer.dropout_ratio))
      .ptr();
}

at::Tensor forward(LayerRun& run) {
  return run.module->as<torch::nn::DropoutImpl>()->forward(run.in[0]);
}

// Deployed networks do not drop.
std::string to_onnx(const OnnxLayer& l) {
  return l.in[0];
}

} // namespace dropout_impl

LayerDef dropout_layer() {
  LayerDef def{LayerType::kDropout, "Dropout"};
  def.read = dropout_impl::read;
  def.write = dropout_impl::write;
  def.make_module = dropout_impl::make_module;
  def.forward = dropout_impl::forward;
  def.to_onnx = dropout_impl::to_onnx;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
