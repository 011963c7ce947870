#include "detail/net_proto.h"

#include "detail/v1_types.h"

#include <c10/util/Exception.h>

namespace fcnlab {
namespace caffe {
namespace detail {
namespace {

using models::Filler;
using models::LayerSpec;
using models::LayerType;
using models::Window;

Filler read_filler(const ::caffe::FillerParameter& proto) {
  Filler filler;
  filler.type = proto.type();
  filler.value = proto.value();
  filler.mean = proto.mean();
  filler.std = proto.std();
  filler.min = proto.min();
  filler.max = proto.max();
  filler.variance_norm =
      ::caffe::FillerParameter::VarianceNorm_Name(proto.variance_norm());
  return filler;
}

void write_filler(const Filler& filler, ::caffe::FillerParameter* out) {
  out->set_type(filler.type);
  if (filler.type == "constant" && filler.value != 0) {
    out->set_value(static_cast<float>(filler.value));
  } else if (filler.type == "gaussian") {
    out->set_std(static_cast<float>(filler.std));
    if (filler.mean != 0) {
      out->set_mean(static_cast<float>(filler.mean));
    }
  } else if (filler.type == "uniform") {
    out->set_min(static_cast<float>(filler.min));
    out->set_max(static_cast<float>(filler.max));
  } else if (filler.type == "xavier" || filler.type == "msra") {
    ::caffe::FillerParameter::VarianceNorm norm;
    if (::caffe::FillerParameter::VarianceNorm_Parse(
            filler.variance_norm, &norm) &&
        norm != ::caffe::FillerParameter::FAN_IN) {
      out->set_variance_norm(norm);
    }
  }
}

// Caffe's convention: *_h/*_w when given, else one repeated value for both
// axes or one per axis, else the default.
template <typename Repeated>
std::pair<int64_t, int64_t> axes(
    const Repeated& values,
    bool has_h,
    int64_t h,
    bool has_w,
    int64_t w,
    int64_t fallback) {
  if (has_h || has_w) {
    return {has_h ? h : fallback, has_w ? w : fallback};
  }
  if (values.size() == 0) {
    return {fallback, fallback};
  }
  return {values.Get(0), values.Get(values.size() > 1 ? 1 : 0)};
}

Window read_conv_window(const ::caffe::ConvolutionParameter& p) {
  Window w;
  std::tie(w.kernel_h, w.kernel_w) = axes(
      p.kernel_size(),
      p.has_kernel_h(),
      p.kernel_h(),
      p.has_kernel_w(),
      p.kernel_w(),
      1);
  std::tie(w.stride_h, w.stride_w) = axes(
      p.stride(),
      p.has_stride_h(),
      p.stride_h(),
      p.has_stride_w(),
      p.stride_w(),
      1);
  std::tie(w.pad_h, w.pad_w) =
      axes(p.pad(), p.has_pad_h(), p.pad_h(), p.has_pad_w(), p.pad_w(), 0);
  std::tie(w.dilation_h, w.dilation_w) =
      axes(p.dilation(), false, 0, false, 0, 1);
  return w;
}

Window read_pool_window(const ::caffe::PoolingParameter& p) {
  Window w;
  auto pick = [](bool has_h, int64_t h, bool has_w, int64_t w, int64_t both) {
    return std::make_pair(has_h ? h : both, has_w ? w : both);
  };
  std::tie(w.kernel_h, w.kernel_w) = pick(
      p.has_kernel_h(),
      p.kernel_h(),
      p.has_kernel_w(),
      p.kernel_w(),
      p.kernel_size());
  std::tie(w.stride_h, w.stride_w) = pick(
      p.has_stride_h(),
      p.stride_h(),
      p.has_stride_w(),
      p.stride_w(),
      p.stride());
  std::tie(w.pad_h, w.pad_w) =
      pick(p.has_pad_h(), p.pad_h(), p.has_pad_w(), p.pad_w(), p.pad());
  return w;
}

template <typename Param>
void write_window(const Window& w, Param* p, bool dilation) {
  if (w.kernel_h == w.kernel_w) {
    p->add_kernel_size(static_cast<uint32_t>(w.kernel_h));
  } else {
    p->set_kernel_h(static_cast<uint32_t>(w.kernel_h));
    p->set_kernel_w(static_cast<uint32_t>(w.kernel_w));
  }
  if (w.stride_h == w.stride_w) {
    if (w.stride_h != 1) {
      p->add_stride(static_cast<uint32_t>(w.stride_h));
    }
  } else {
    p->set_stride_h(static_cast<uint32_t>(w.stride_h));
    p->set_stride_w(static_cast<uint32_t>(w.stride_w));
  }
  if (w.pad_h == w.pad_w) {
    if (w.pad_h != 0) {
      p->add_pad(static_cast<uint32_t>(w.pad_h));
    }
  } else {
    p->set_pad_h(static_cast<uint32_t>(w.pad_h));
    p->set_pad_w(static_cast<uint32_t>(w.pad_w));
  }
  if (dilation && (w.dilation_h != 1 || w.dilation_w != 1)) {
    p->add_dilation(static_cast<uint32_t>(w.dilation_h));
    if (w.dilation_w != w.dilation_h) {
      p->add_dilation(static_cast<uint32_t>(w.dilation_w));
    }
  }
}

void write_pool_window(const Window& w, ::caffe::PoolingParameter* p) {
  if (w.kernel_h == w.kernel_w) {
    p->set_kernel_size(static_cast<uint32_t>(w.kernel_h));
  } else {
    p->set_kernel_h(static_cast<uint32_t>(w.kernel_h));
    p->set_kernel_w(static_cast<uint32_t>(w.kernel_w));
  }
  if (w.stride_h == w.stride_w) {
    p->set_stride(static_cast<uint32_t>(w.stride_h));
  } else {
    p->set_stride_h(static_cast<uint32_t>(w.stride_h));
    p->set_stride_w(static_cast<uint32_t>(w.stride_w));
  }
  if (w.pad_h == w.pad_w) {
    if (w.pad_h != 0) {
      p->set_pad(static_cast<uint32_t>(w.pad_h));
    }
  } else {
    p->set_pad_h(static_cast<uint32_t>(w.pad_h));
    p->set_pad_w(static_cast<uint32_t>(w.pad_w));
  }
}

// Caffe allows negative axes counted from the end of a 4-D blob.
int64_t axis_of(int64_t axis) {
  return axis < 0 ? axis + 4 : axis;
}

} // namespace

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
  switch (type) {
    case LayerType::kConvolution:
    case LayerType::kDeconvolution: {
      const auto& p = proto.convolution_param();
      auto& conv = layer.convolution;
      conv.num_output = p.num_output();
      conv.window = read_conv_window(p);
      conv.group = p.group();
      conv.bias_term = p.bias_term();
      if (p.has_weight_filler()) {
        conv.weight_filler = read_filler(p.weight_filler());
      }
      if (p.has_bias_filler()) {
        conv.bias_filler = read_filler(p.bias_filler());
      }
      TORCH_CHECK(
          p.axis() == 1, where, ": convolution axis must be 1, got ", p.axis());
      break;
    }
    case LayerType::kPooling: {
      const auto& p = proto.pooling_param();
      TORCH_CHECK(
          p.pool() != ::caffe::PoolingParameter::STOCHASTIC,
          where,
          ": STOCHASTIC pooling is not supported (MAX, AVE)");
      layer.pooling.method = p.pool() == ::caffe::PoolingParameter::MAX
          ? models::PoolMethod::kMax
          : models::PoolMethod::kAverage;
      layer.pooling.window = read_pool_window(p);
      layer.pooling.global = p.global_pooling();
      layer.pooling.ceil_mode =
          p.round_mode() == ::caffe::PoolingParameter::CEIL;
      TORCH_CHECK(
          layer.pooling.global ||
              (layer.pooling.window.kernel_h >= 1 &&
               layer.pooling.window.kernel_w >= 1),
          where,
          ": pooling needs kernel_size (or global_pooling)");
      break;
    }
    case LayerType::kLRN: {
      const auto& p = proto.lrn_param();
      TORCH_CHECK(
          p.norm_region() == ::caffe::LRNParameter::ACROSS_CHANNELS,
          where,
          ": only ACROSS_CHANNELS LRN is supported");
      layer.lrn = {p.local_size(), p.alpha(), p.beta(), p.k()};
      break;
    }
    case LayerType::kReLU:
      layer.negative_slope = proto.relu_param().negative_slope();
      break;
    case LayerType::kDropout:
      layer.dropout_ratio = proto.dropout_param().dropout_ratio();
      break;
    case LayerType::kPower: {
      const auto& p = proto.power_param();
      layer.power = {p.power(), p.scale(), p.shift()};
      break;
    }
    case LayerType::kCrop: {
      const auto& p = proto.crop_param();
      layer.crop.axis = axis_of(p.axis());
      layer.crop.offsets.assign(p.offset().begin(), p.offset().end());
      break;
    }
    case LayerType::kEltwise: {
      const auto& p = proto.eltwise_param();
      layer.eltwise.operation = p.operation() == ::caffe::EltwiseParameter::SUM
          ? models::EltwiseOp::kSum
          : p.operation() == ::caffe::EltwiseParameter::PROD
          ? models::EltwiseOp::kProduct
          : models::EltwiseOp::kMax;
      layer.eltwise.coefficients.assign(p.coeff().begin(), p.coeff().end());
      break;
    }
    case LayerType::kScale: {
      const auto& p = proto.scale_param();
      TORCH_CHECK(
          proto.bottom_size() == 1,
          where,
          ": a Scale layer with a second bottom (a blob as the factor) is "
          "not supported");
      layer.scale.axis = axis_of(p.axis());
      layer.scale.num_axes = p.num_axes();
      if (p.has_filler()) {
        layer.scale.filler = read_filler(p.filler());
      }
      layer.scale.bias_term = p.bias_term();
      if (p.has_bias_filler()) {
        layer.scale.bias_filler = read_filler(p.bias_filler());
      }
      break;
    }
    case LayerType::kConcat: {
      const auto& p = proto.concat_param();
      layer.concat_axis =
          p.has_axis() ? axis_of(p.axis()) : int64_t{p.concat_dim()};
      break;
    }
    case LayerType::kSoftmax:
      layer.softmax_axis = axis_of(proto.softmax_param().axis());
      break;
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
  switch (layer.type) {
    case LayerType::kConvolution:
    case LayerType::kDeconvolution: {
      auto* p = out->mutable_convolution_param();
      const auto& conv = layer.convolution;
      p->set_num_output(static_cast<uint32_t>(conv.num_output));
      if (!conv.bias_term) {
        p->set_bias_term(false);
      }
      write_window(conv.window, p, /*dilation=*/true);
      if (conv.group != 1) {
        p->set_group(static_cast<uint32_t>(conv.group));
      }
      if (conv.weight_filler) {
        write_filler(*conv.weight_filler, p->mutable_weight_filler());
      }
      if (conv.bias_term && conv.bias_filler.type != "constant") {
        write_filler(conv.bias_filler, p->mutable_bias_filler());
      }
      break;
    }
    case LayerType::kPooling: {
      auto* p = out->mutable_pooling_param();
      p->set_pool(
          layer.pooling.method == models::PoolMethod::kMax
              ? ::caffe::PoolingParameter::MAX
              : ::caffe::PoolingParameter::AVE);
      if (layer.pooling.global) {
        p->set_global_pooling(true);
      } else {
        write_pool_window(layer.pooling.window, p);
      }
      if (!layer.pooling.ceil_mode) {
        p->set_round_mode(::caffe::PoolingParameter::FLOOR);
      }
      break;
    }
    case LayerType::kLRN: {
      auto* p = out->mutable_lrn_param();
      p->set_local_size(static_cast<uint32_t>(layer.lrn.local_size));
      p->set_alpha(static_cast<float>(layer.lrn.alpha));
      p->set_beta(static_cast<float>(layer.lrn.beta));
      p->set_k(static_cast<float>(layer.lrn.k));
      break;
    }
    case LayerType::kReLU:
      if (layer.negative_slope != 0) {
        out->mutable_relu_param()->set_negative_slope(
            static_cast<float>(layer.negative_slope));
      }
      break;
    case LayerType::kDropout:
      out->mutable_dropout_param()->set_dropout_ratio(
          static_cast<float>(layer.dropout_ratio));
      break;
    case LayerType::kPower: {
      auto* p = out->mutable_power_param();
      if (layer.power.power != 1) {
        p->set_power(static_cast<float>(layer.power.power));
      }
      if (layer.power.scale != 1) {
        p->set_scale(static_cast<float>(layer.power.scale));
      }
      p->set_shift(static_cast<float>(layer.power.shift));
      break;
    }
    case LayerType::kCrop: {
      auto* p = out->mutable_crop_param();
      p->set_axis(static_cast<int32_t>(layer.crop.axis));
      for (const int64_t offset : layer.crop.offsets) {
        p->add_offset(static_cast<uint32_t>(offset));
      }
      break;
    }
    case LayerType::kEltwise: {
      auto* p = out->mutable_eltwise_param();
      const auto op = layer.eltwise.operation;
      p->set_operation(
          op == models::EltwiseOp::kSum ? ::caffe::EltwiseParameter::SUM
              : op == models::EltwiseOp::kProduct
              ? ::caffe::EltwiseParameter::PROD
              : ::caffe::EltwiseParameter::MAX);
      for (const double c : layer.eltwise.coefficients) {
        p->add_coeff(static_cast<float>(c));
      }
      break;
    }
    case LayerType::kScale: {
      auto* p = out->mutable_scale_param();
      write_filler(layer.scale.filler, p->mutable_filler());
      if (layer.scale.bias_term) {
        p->set_bias_term(true);
      }
      break;
    }
    case LayerType::kConcat:
      if (layer.concat_axis != 1) {
        out->mutable_concat_param()->set_axis(
            static_cast<int32_t>(layer.concat_axis));
      }
      break;
    case LayerType::kSoftmax:
      if (layer.softmax_axis != 1) {
        out->mutable_softmax_param()->set_axis(
            static_cast<int32_t>(layer.softmax_axis));
      }
      break;
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
