// Pooling: MaxPool2d or AvgPool2d (Caffe's rounding up, padding counted in
// the average's divisor); global pooling runs as a reduction.
#include "caffe_fields.h"
#include "layer_def.h"
#include "layer_run.h"
#include "onnx_graph.h"
#include "sliding_window.h"

#include <torch/nn/modules/pooling.h>
#include <torch/nn/options/pooling.h>

#include <c10/util/Exception.h>

namespace fcnlab {
namespace models {
namespace layers {
namespace pooling_impl {

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
  if (!pooling.global) {
    check_steps(pooling.window, where);
  }
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

std::string to_onnx(const OnnxLayer& l) {
  const PoolingParams& p = l.layer.pooling;
  const bool max = p.method == PoolMethod::kMax;
  if (p.global) {
    return l.node(max ? "GlobalMaxPool" : "GlobalAveragePool", {l.in[0]});
  }
  const Window& w = p.window;
  // Rounding up, a window may start in the far padding only when pad >
  // kernel - stride; Caffe and the runtimes treat that window differently.
  TORCH_CHECK(
      !p.ceil_mode ||
          (w.pad_h <= w.kernel_h - w.stride_h &&
           w.pad_w <= w.kernel_w - w.stride_w),
      l.where(),
      ": pooling with pad ",
      w.pad_h,
      "x",
      w.pad_w,
      " beyond kernel - stride (",
      w.kernel_h - w.stride_h,
      "x",
      w.kernel_w - w.stride_w,
      ") cannot be exported: ONNX runtimes disagree on its last window");
  const int64_t ceil_mode = p.ceil_mode ? 1 : 0;
  if (max) {
    auto attributes = window_attributes(w, /*with_dilations=*/false);
    attributes.emplace_back("ceil_mode", ceil_mode);
    return l.node("MaxPool", {l.in[0]}, std::move(attributes));
  }
  // Caffe's divisor counts the padding but not a window's overhang past
  // it: pad explicitly with zeros, then average what lies inside.
  std::string x = l.in[0];
  if (w.pad_h != 0 || w.pad_w != 0) {
    x = l.step(
        "pad",
        "Pad",
        {x, l.ints("pads", {0, 0, w.pad_h, w.pad_w, 0, 0, w.pad_h, w.pad_w})});
  }
  auto attributes =
      window_attributes(w, /*with_dilations=*/false, /*with_pads=*/false);
  attributes.emplace_back("ceil_mode", ceil_mode);
  attributes.emplace_back("count_include_pad", int64_t{0});
  return l.node("AveragePool", {x}, std::move(attributes));
}

} // namespace pooling_impl

LayerDef pooling_layer() {
  LayerDef def{LayerType::kPooling, "Pooling"};
  def.read = pooling_impl::read;
  def.write = pooling_impl::write;
  def.geometry = pooling_impl::geometry;
  def.output_size = pooling_impl::output_size;
  def.make_module = pooling_impl::make_module;
  def.forward = pooling_impl::forward;
  def.to_onnx = pooling_impl::to_onnx;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
