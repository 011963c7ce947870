// Concat: the bottoms joined along an axis (channels by default).
#include "caffe_fields.h"
#include "layer_def.h"
#include "layer_run.h"
#include "onnx_graph.h"

#include <ATen/ATen.h>

#include <cstdint>

namespace fcnlab {
namespace models {
namespace layers {
namespace {

void read(
    const ::caffe::LayerParameter& proto,
    LayerSpec& layer,
    const std::string& /*where*/) {
  const auto& p = proto.concat_param();
  layer.concat_axis =
      p.has_axis() ? blob_axis(p.axis()) : int64_t{p.concat_dim()};
}

void write(const LayerSpec& layer, ::caffe::LayerParameter* out) {
  if (layer.concat_axis != 1) {
    out->mutable_concat_param()->set_axis(
        static_cast<int32_t>(layer.concat_axis));
  }
}

int64_t out_channels(
    const NetSpec& /*spec*/,
    const LayerSpec& layer,
    const std::vector<int64_t>& in) {
  if (layer.concat_axis != 1) {
    return in[0];
  }
  int64_t sum = 0;
  for (const int64_t c : in) {
    sum += c;
  }
  return sum;
}

at::Tensor forward(LayerRun& run) {
  return at::cat(run.in, run.layer.concat_axis);
}

std::string to_onnx(const OnnxLayer& l) {
  return l.node("Concat", l.in, {{"axis", l.layer.concat_axis}});
}

} // namespace

LayerDef concat_layer() {
  LayerDef def{LayerType::kConcat, "Concat"};
  def.max_bottoms = SIZE_MAX;
  def.read = read;
  def.write = write;
  def.out_channels = out_channels;
  def.forward = forward;
  def.to_onnx = to_onnx;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
