#include "detail/net_proto.h"

#include "detail/v1_types.h"

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

::caffe::LayerParameter upgrade_v1_layer(const ::caffe::V1LayerParameter& v1) {
  ::caffe::LayerParameter layer;
  layer.set_name(v1.name());
  layer.set_type(v1_type_name(v1.type()));
  *layer.mutable_bottom() = v1.bottom();
  *layer.mutable_top() = v1.top();
  *layer.mutable_include() = v1.include();
  *layer.mutable_exclude() = v1.exclude();
  const int params = std::max(v1.blobs_lr_size(), v1.weight_decay_size());
  for (int i = 0; i < params; ++i) {
    auto* param = layer.add_param();
    if (i < v1.blobs_lr_size()) {
      param->set_lr_mult(v1.blobs_lr(i));
    }
    if (i < v1.weight_decay_size()) {
      param->set_decay_mult(v1.weight_decay(i));
    }
  }
  if (v1.has_convolution_param()) {
    *layer.mutable_convolution_param() = v1.convolution_param();
  }
  if (v1.has_pooling_param()) {
    *layer.mutable_pooling_param() = v1.pooling_param();
  }
  if (v1.has_lrn_param()) {
    *layer.mutable_lrn_param() = v1.lrn_param();
  }
  if (v1.has_relu_param()) {
    *layer.mutable_relu_param() = v1.relu_param();
  }
  if (v1.has_dropout_param()) {
    *layer.mutable_dropout_param() = v1.dropout_param();
  }
  if (v1.has_power_param()) {
    *layer.mutable_power_param() = v1.power_param();
  }
  if (v1.has_eltwise_param()) {
    *layer.mutable_eltwise_param() = v1.eltwise_param();
  }
  if (v1.has_concat_param()) {
    *layer.mutable_concat_param() = v1.concat_param();
  }
  if (v1.has_softmax_param()) {
    *layer.mutable_softmax_param() = v1.softmax_param();
  }
  if (v1.has_transform_param()) {
    *layer.mutable_transform_param() = v1.transform_param();
  }
  if (v1.has_loss_param()) {
    *layer.mutable_loss_param() = v1.loss_param();
  }
  if (v1.has_accuracy_param()) {
    *layer.mutable_accuracy_param() = v1.accuracy_param();
  }
  return layer;
}

} // namespace detail
} // namespace caffe
} // namespace fcnlab
