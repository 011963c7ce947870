// ReLU (leaky with a negative slope); in place over a convolution's own
// output when no gradient needs it.
#include "layer_def.h"
#include "layer_run.h"
#include "onnx_graph.h"

#include "caffe.pb.h"

#include <ATen/ATen.h>

namespace fcnlab {
namespace models {
namespace layers {
namespace relu_impl {

void read(
    const ::caffe::LayerParameter& proto,
    LayerSpec& layer,
    const std::string& /*where*/) {
  layer.negative_slope = proto.relu_param().negative_slope();
}

void write(const LayerSpec& layer, ::caffe::LayerParameter* out) {
  if (layer.negative_slope != 0) {
    out->mutable_relu_param()->set_negative_slope(
        static_cast<float>(layer.negative_slope));
  }
}

at::Tensor forward(LayerRun& run) {
  if (run.may_overwrite) {
    return at::relu_(run.in[0]);
  }
  const double slope = run.layer.negative_slope;
  return slope == 0 ? at::relu(run.in[0]) : at::leaky_relu(run.in[0], slope);
}

bool can_overwrite(const LayerSpec& layer) {
  return layer.negative_slope == 0;
}

std::string to_onnx(const OnnxLayer& l) {
  const double slope = l.layer.negative_slope;
  if (slope == 0) {
    return l.node("Relu", {l.in[0]});
  }
  return l.node("LeakyRelu", {l.in[0]}, {{"alpha", static_cast<float>(slope)}});
}

} // namespace relu_impl

LayerDef relu_layer() {
  LayerDef def{LayerType::kReLU, "ReLU"};
  def.read = relu_impl::read;
  def.write = relu_impl::write;
  def.forward = relu_impl::forward;
  def.can_overwrite = relu_impl::can_overwrite;
  def.to_onnx = relu_impl::to_onnx;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
