// BatchNorm: Caffe's normalization with three blobs that the solver never
// learns (fcnlab/models/layers/batch_norm.h).
#include <fcnlab/models/layers/batch_norm.h>

#include "layer_def.h"
#include "layer_run.h"
#include "onnx_graph.h"

#include "caffe.pb.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace fcnlab {
namespace models {

BatchNormImpl::BatchNormImpl(
    int64_t channels_,
    std::optional<bool> use_global_stats_,
    double moving_average_fraction_,
    double eps_)
    : channels(channels_),
      use_global_stats(use_global_stats_),
      moving_average_fraction(moving_average_fraction_),
      eps(eps_) {
  reset();
}

void BatchNormImpl::reset() {
  mean = register_parameter("mean", torch::zeros({channels}), false);
  variance = register_parameter("variance", torch::zeros({channels}), false);
  factor = register_parameter("factor", torch::zeros({1}), false);
}

torch::Tensor BatchNormImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK_VALUE(
      x.dim() == 4 && x.size(1) == channels,
      "BatchNorm expects N x ",
      channels,
      " x H x W, got shape ",
      x.sizes());
  if (use_global_stats.value_or(!is_training())) {
    // Caffe scales the sums by 1 / factor, and by 0 before any update.
    const auto scale =
        at::where(factor == 0, at::zeros_like(factor), factor.reciprocal());
    return at::batch_norm(
        x,
        /*weight=*/{},
        /*bias=*/{},
        mean * scale,
        variance * scale,
        /*training=*/false,
        /*momentum=*/0.0,
        eps,
        /*cudnn_enabled=*/true);
  }
  const auto batch_mean = x.mean({0, 2, 3});
  const auto centred = x - batch_mean.view({1, -1, 1, 1});
  const auto batch_variance = centred.pow(2).mean({0, 2, 3});
  {
    torch::NoGradGuard no_grad;
    const double f = moving_average_fraction;
    const double m = static_cast<double>(x.numel() / channels);
    factor.mul_(f).add_(1);
    mean.mul_(f).add_(batch_mean.to(mean.scalar_type()));
    variance.mul_(f).add_(
        batch_variance.to(variance.scalar_type()), m > 1 ? m / (m - 1) : 1);
  }
  return centred * (batch_variance + eps).rsqrt().view({1, -1, 1, 1});
}

namespace layers {
namespace batch_norm_impl {

void read(
    const ::caffe::LayerParameter& proto,
    LayerSpec& layer,
    const std::string& /*where*/) {
  const auto& p = proto.batch_norm_param();
  auto& bn = layer.batch_norm;
  if (p.has_use_global_stats()) {
    bn.use_global_stats = p.use_global_stats();
  }
  bn.moving_average_fraction = p.moving_average_fraction();
  bn.eps = p.eps();
  // Caffe masks the statistics from the solver whatever the file says.
  layer.params.assign(3, ParamRule{0.0, 0.0});
}

void write(const LayerSpec& layer, ::caffe::LayerParameter* out) {
  auto* p = out->mutable_batch_norm_param();
  const auto& bn = layer.batch_norm;
  if (bn.use_global_stats) {
    p->set_use_global_stats(*bn.use_global_stats);
  }
  if (bn.moving_average_fraction != 0.999) {
    p->set_moving_average_fraction(
        static_cast<float>(bn.moving_average_fraction));
  }
  if (bn.eps != 1e-5) {
    p->set_eps(static_cast<float>(bn.eps));
  }
}

std::vector<int64_t> parameter_sizes(
    const LayerSpec& /*layer*/,
    int64_t in_channels) {
  return {in_channels, in_channels, 1};
}

std::shared_ptr<torch::nn::Module> make_module(
    const LayerSpec& layer,
    int64_t in_channels,
    const std::string& /*where*/) {
  const auto& bn = layer.batch_norm;
  return BatchNorm(
             in_channels,
             bn.use_global_stats,
             bn.moving_average_fraction,
             bn.eps)
      .ptr();
}

at::Tensor forward(LayerRun& run) {
  return run.module->as<BatchNormImpl>()->forward(run.in[0]);
}

// The stored statistics, scaled as forward() scales them.
std::string to_onnx(const OnnxLayer& l) {
  const BatchNormParams& p = l.layer.batch_norm;
  TORCH_CHECK(
      p.use_global_stats.value_or(true),
      l.where(),
      ": normalizes with each batch's own statistics (use_global_stats: "
      "false); an exported model runs the stored ones");
  const at::Tensor factor = l.parameter("factor");
  const at::Tensor scale =
      at::where(factor == 0, at::zeros_like(factor), factor.reciprocal());
  const at::Tensor mean = l.parameter("mean") * scale;
  const int64_t channels = mean.numel();
  return l.node(
      "BatchNormalization",
      {l.in[0],
       l.constant("scale", at::ones({channels})),
       l.constant("bias", at::zeros({channels})),
       l.constant("mean", mean),
       l.constant("variance", l.parameter("variance") * scale)},
      {{"epsilon", static_cast<float>(p.eps)}});
}

} // namespace batch_norm_impl

LayerDef batch_norm_layer() {
  LayerDef def{LayerType::kBatchNorm, "BatchNorm"};
  def.read = batch_norm_impl::read;
  def.write = batch_norm_impl::write;
  def.parameter_sizes = batch_norm_impl::parameter_sizes;
  def.make_module = batch_norm_impl::make_module;
  def.forward = batch_norm_impl::forward;
  def.fresh_output = true;
  def.to_onnx = batch_norm_impl::to_onnx;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
