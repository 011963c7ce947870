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
namespace concat_impl {

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

} // namespace concat_impl

LayerDef concat_layer() {
  LayerDef def{LayerType::kConcat, "Concat"};
  def.max_bottoms = SIZE_MAX;
  def.read = concat_impl::read;
  def.write = concat_impl::write;
  def.out_channels = concat_impl::out_channels;
  def.forward = concat_impl::forward;
  def.to_onnx = concat_impl::to_onnx;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
