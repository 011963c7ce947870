// Power: y = (shift + scale * x) ^ power, skipping the identities.
#include "layer_def.h"
#include "layer_run.h"
#include "onnx_graph.h"

#include "caffe.pb.h"

#include <ATen/ATen.h>

namespace fcnlab {
namespace models {
namespace layers {
namespace power_impl {

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

std::string to_onnx(const OnnxLayer& l) {
  const PowerParams& p = l.layer.power;
  struct Step {
    const char* what;
    const char* op;
    double value;
  };
  std::vector<Step> steps;
  if (p.scale != 1) {
    steps.push_back({"scale", "Mul", p.scale});
  }
  if (p.shift != 0) {
    steps.push_back({"shift", "Add", p.shift});
  }
  if (p.power != 1) {
    steps.push_back({"power", "Pow", p.power});
  }
  std::string y = l.in[0];
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    const std::vector<std::string> inputs{
        y, l.scalar(std::string(s.what) + "_value", s.value)};
    y = i + 1 == steps.size() ? l.node(s.op, inputs)
                              : l.step(s.what, s.op, inputs);
  }
  return y;
}

} // namespace power_impl

LayerDef power_layer() {
  LayerDef def{LayerType::kPower, "Power"};
  def.read = power_impl::read;
  def.write = power_impl::write;
  def.forward = power_impl::forward;
  def.to_onnx = power_impl::to_onnx;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
