// Pooling: MaxPool2d or AvgPool2d (Caffe's rounding up, padding counted in
// the average's divisor); global pooling runs as a reduction.
#include "caffe_fields.h"
#include "layer_def.h"
#include "layer_run.h"
#include "sliding_window.h"

#include <torch/nn/modules/pooling.h>
#include <torch/nn/options/pooling.h>

#include <c10/util/Exception.h>

namespace fcnlab {
namespace models {
namespace layers {
namespace {

void read(
    const ::caffe::LayerParameter& proto,
    LayerSpec& layer,
    const std::string& where) {
  const auto& p = proto.pooling_param();
  TORCH_CHECK(
      p.pool() != ::caffe::PoolingParameter::STOCHASTIC,
      where,
      ": STOCHASTIC pooling is not supported (MAX, AVE)");
  auto& pooling = layer.pooling;
  pooling.method = p.pool() == ::caffe::PoolingParameter::MAX
      ? PoolMethod::kMax
      : PoolMethod::kAverage;
  pooling.window = read_pooling_window(p);
  pooling.global = p.global_pooling();
  pooling.ceil_mode = p.round_mode() == ::caffe::PoolingParameter::CEIL;
  TORCH_CHECK(
      pooling.global ||
          (pooling.window.kernel_h >= 1 && pooling.window.kernel_w >= 1),
      where,
      ": pooling needs kernel_size (or global_pooling)");
}

void write(const LayerSpec& layer, ::caffe::LayerParameter* out) {
  auto* p = out->mutable_pooling_param();
  p->set_pool(
      layer.pooling.method == PoolMethod::kMax
          ? ::caffe::PoolingParameter::MAX
          : ::caffe::PoolingParameter::AVE);
  if (layer.pooling.global) {
    p->set_global_pooling(true);
  } else {
    write_pooling_window(layer.pooling.window, p);
  }
  if (!layer.pooling.ceil_mode) {
    p->set_round_mode(::caffe::PoolingParameter::FLOOR);
  }
}

std::shared_ptr<torch::nn::Module> make_module(
    const LayerSpec& layer,
    int64_t /*in_channels*/,
    const std::string& /*where*/) {
  if (layer.pooling.global) {
    return nullptr;
  }
  const Window& w = layer.pooling.window;
  if (layer.pooling.method == PoolMethod::kMax) {
    return torch::nn::MaxPool2d(
               torch::nn::MaxPool2dOptions(height_width(w.kernel_h, w.kernel_w))
                   .stride(height_width(w.stride_h, w.stride_w))
                   .padding(height_width(w.pad_h, w.pad_w))
                   .ceil_mode(layer.pooling.ceil_mode))
        .ptr();
  }
  // Caffe divides by the window clipped to the padded input, as
  // count_include_pad does.
  return torch::nn::AvgPool2d(
             torch::nn::AvgPool2dOptions(height_width(w.kernel_h, w.kernel_w))
                 .stride(height_width(w.stride_h, w.stride_w))
                 .padding(height_width(w.pad_h, w.pad_w))
                 .ceil_mode(layer.pooling.ceil_mode)
                 .count_include_pad(true))
      .ptr();
}

at::Tensor forward(LayerRun& run) {
  const auto& pooling = run.layer.pooling;
  const at::Tensor& x = run.in[0];
  if (pooling.global) {
    return pooling.method == PoolMethod::kMax
        ? x.amax({2, 3}, /*keepdim=*/true)
        : x.mean({2, 3}, /*keepdim=*/true);
  }
  if (pooling.method == PoolMethod::kMax) {
    return run.module->as<torch::nn::MaxPool2dImpl>()->forward(x);
  }
  return run.module->as<torch::nn::AvgPool2dImpl>()->forward(x);
}

LayerGeometry geometry(const LayerSpec& layer, int axis) {
  return window_geometry(
      layer.name, layer.pooling.window, LayerKind::kWindow, axis);
}

PlaneSize output_size(
    const LayerSpec& layer,
    const std::vector<PlaneSize>& in) {
  if (layer.pooling.global) {
    return {1, 1};
  }
  const bool round_up = layer.pooling.ceil_mode;
  return {
      window_count(in[0].height, geometry(layer, 0), true, round_up),
      window_count(in[0].width, geometry(layer, 1), true, round_up)};
}

} // namespace

LayerDef pooling_layer() {
  LayerDef def{LayerType::kPooling, "Pooling"};
  def.read = read;
  def.write = write;
  def.geometry = geometry;
  def.output_size = output_size;
  def.make_module = make_module;
  def.forward = forward;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
