// ReLU (leaky with a negative slope); in place over a convolution's own
// output when no gradient needs it.
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

} // namespace

LayerDef relu_layer() {
  LayerDef def{LayerType::kReLU, "ReLU"};
  def.read = read;
  def.write = write;
  def.forward = forward;
  def.can_overwrite = can_overwrite;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
