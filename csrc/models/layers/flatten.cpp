// Flatten: each item's C x H x W as the channels of a 1 x 1 plane (Caffe's
// N x CHW blob, kept 4-D).
#include "caffe_fields.h"
#include "layer_def.h"
#include "layer_run.h"
#include "onnx_graph.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

namespace fcnlab {
namespace models {
namespace layers {
namespace flatten_impl {

void read(
    const ::caffe::LayerParameter& proto,
    LayerSpec& /*layer*/,
    const std::string& where) {
  const auto& p = proto.flatten_param();
  TORCH_CHECK(
      blob_axis(p.axis()) == 1 && blob_axis(p.end_axis()) == 3,
      where,
      ": Flatten runs from axis 1 to the last (each item's C x H x W), got "
      "axis ",
      p.axis(),
      ", end_axis ",
      p.end_axis());
}

at::Tensor forward(LayerRun& run) {
  const at::Tensor& x = run.in[0];
  return x.reshape({x.size(0), -1, 1, 1});
}

std::string to_onnx(const OnnxLayer& l) {
  return l.node("Reshape", {l.in[0], l.ints("shape", {0, -1, 1, 1})});
}

} // namespace flatten_impl

LayerDef flatten_layer() {
  LayerDef def{LayerType::kFlatten, "Flatten"};
  def.read = flatten_impl::read;
  def.forward = flatten_impl::forward;
  def.reads_whole_plane = true;
  def.to_onnx = flatten_impl::to_onnx;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
