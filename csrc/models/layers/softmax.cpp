// Softmax over an axis (channels by default).
#include "caffe_fields.h"
#include "layer_def.h"
#include "layer_run.h"
#include "onnx_graph.h"

#include <ATen/ATen.h>

namespace fcnlab {
namespace models {
namespace layers {
namespace softmax_impl {

void read(
    const ::caffe::LayerParameter& proto,
    LayerSpec& layer,
    const std::string& /*where*/) {
  layer.softmax_axis = blob_axis(proto.softmax_param().axis());
}

void write(const LayerSpec& layer, ::caffe::LayerParameter* out) {
  if (layer.softmax_axis != 1) {
    out->mutable_softmax_param()->set_axis(
        static_cast<int32_t>(layer.softmax_axis));
  }
}

at::Tensor forward(LayerRun& run) {
  return at::softmax(run.in[0], run.layer.softmax_axis);
}

std::string to_onnx(const OnnxLayer& l) {
  return add_softmax(
      l.graph, l.layer.name, l.in[0], l.layer.softmax_axis, l.top);
}

} // namespace softmax_impl

LayerDef softmax_layer() {
  LayerDef def{LayerType::kSoftmax, "Softmax"};
  def.read = softmax_impl::read;
  def.write = softmax_impl::write;
  def.forward = softmax_impl::forward;
  def.to_onnx = softmax_impl::to_onnx;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
