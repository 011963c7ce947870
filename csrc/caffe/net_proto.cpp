#include "detail/net_proto.h"

#include "../models/layers/layer_def.h"

#include <c10/util/Exception.h>

namespace fcnlab {
namespace caffe {
namespace detail {

using models::LayerSpec;
using models::LayerType;

LayerSpec read_layer(
    const ::caffe::LayerParameter& proto,
    LayerType type,
    const std::string& where) {
  LayerSpec layer;
  layer.name = proto.name();
  layer.type = type;
  layer.bottoms.assign(proto.bottom().begin(), proto.bottom().end());
  layer.tops.assign(proto.top().begin(), proto.top().end());
  for (const auto& param : proto.param()) {
    layer.params.push_back({param.lr_mult(), param.decay_mult()});
  }
  const auto& def = models::layers::layer_def(type);
  if (def.read) {
    def.read(proto, layer, where);
  }
  return layer;
}

void describe_layer(const LayerSpec& layer, ::caffe::LayerParameter* out) {
  out->set_name(layer.name);
  out->set_type(models::caffe_type_name(layer.type));
  for (const auto& bottom : layer.bottoms) {
    out->add_bottom(bottom);
  }
  for (const auto& top : layer.tops) {
    out->add_top(top);
  }
  for (const auto& rule : layer.params) {
    auto* param = out->add_param();
    param->set_lr_mult(static_cast<float>(rule.lr_mult));
    param->set_decay_mult(static_cast<float>(rule.decay_mult));
  }
  const auto& def = models::layers::layer_def(layer.type);
  if (def.write) {
    def.write(layer, out);
  }
}

::caffe::LayerParameter* add_input_layer(
    ::caffe::NetParameter& net,
    const std::string& top) {
  auto* input = net.add_layer();
  input->set_name("input");
  input->set_type("Input");
  input->add_top(top);
  return input;
}

} // namespace detail
} // namespace caffe
} // namespace fcnlab
