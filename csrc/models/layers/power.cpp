// Power: y = (shift + scale * x) ^ power, skipping the identities.
#include "layer_def.h"
#include "layer_run.h"

#include "caffe.pb.h"

#include <ATen/ATen.h>

namespace fcnlab {
namespace models {
namespace layers {
namespace {

void read(
    const ::caffe::LayerParameter& proto,
    LayerSpec& layer,
    const std::string& /*where*/) {
  const auto& p = proto.power_param();
  layer.power = {p.power(), p.scale(), p.shift()};
}

void write(const LayerSpec& layer, ::caffe::LayerParameter* out) {
  auto* p = out->mutable_power_param();
  if (layer.power.power != 1) {
    p->set_power(static_cast<float>(layer.power.power));
  }
  if (layer.power.scale != 1) {
    p->set_scale(static_cast<float>(layer.power.scale));
  }
  p->set_shift(static_cast<float>(layer.power.shift));
}

at::Tensor forward(LayerRun& run) {
  const auto& p = run.layer.power;
  at::Tensor y = p.scale == 1 ? run.in[0] : run.in[0] * p.scale;
  y = p.shift == 0 ? y : y + p.shift;
  return p.power == 1 ? y : at::pow(y, p.power);
}

} // namespace

LayerDef power_layer() {
  LayerDef def{LayerType::kPower, "Power"};
  def.read = read;
  def.write = write;
  def.forward = forward;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
