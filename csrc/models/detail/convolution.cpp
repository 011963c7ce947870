#include "convolution.h"
#include "winograd_convolution.h"

#include <fcnlab/models/bilinear.h>
#include <fcnlab/util/autocast.h>

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/core/grad_mode.h>

namespace fcnlab {
namespace models {
namespace detail {

WeightCache::Entry* WeightCache::find(
    const std::string& key,
    const at::Tensor& weight) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    return nullptr;
  }
  Entry& entry = it->second;
  const bool same = entry.weight.is_same(weight) &&
      entry.data == weight.data_ptr() && entry.version == weight._version();
  return same ? &entry : nullptr;
}

WeightCache::Entry& WeightCache::store(
    const std::string& key,
    const at::Tensor& weight) {
  Entry& entry = entries_[key];
  entry = Entry{};
  entry.weight = weight;
  entry.data = weight.data_ptr();
  entry.version = weight._version();
  return entry;
}

at::Tensor WeightCache::derived(
    const std::string& key,
    const at::Tensor& weight,
    const std::function<at::Tensor()>& make) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (Entry* entry = find(key, weight)) {
    return entry->tensor;
  }
  const at::NoGradGuard no_grad;
  return store(key, weight).tensor = make();
}

at::Tensor WeightCache::packed(
    const ConvShape& layer,
    const at::Tensor& weight,
    at::ScalarType dtype) {
  return derived(layer.name + "/packed/" + c10::toString(dtype), weight, [&] {
    return at::mkldnn_reorder_conv2d_weight(
        weight.detach().to_mkldnn(dtype),
        layer.pad,
        layer.stride,
        layer.dilation,
        layer.groups);
  });
}

at::Tensor WeightCache::converted(
    const std::string& name,
    const at::Tensor& weight,
    at::ScalarType dtype) {
  return derived(name + "/" + c10::toString(dtype), weight, [&] {
    return weight.detach().to(dtype);
  });
}

bool WeightCache::is_bilinear(
    const std::string& name,
    const at::Tensor& weight,
    int64_t groups) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string key = name + "/bilinear";
  if (Entry* entry = find(key, weight)) {
    return entry->bilinear;
  }
  const bool square = weight.dim() == 4 && weight.size(2) == weight.size(3);
  const int64_t channels = weight.size(0);
  bool bilinear = false;
  if (square && groups == channels && weight.size(1) == 1) {
    bilinear = at::allclose(
        weight.detach().to(at::kCPU, at::kFloat),
        bilinear_upsampling_weight(channels, weight.size(2)),
        /*rtol=*/0,
        /*atol=*/1e-6);
  } else if (square && groups == 1 && weight.size(1) == channels) {
    bilinear = at::allclose(
        weight.detach().to(at::kCPU, at::kFloat),
        diagonal_bilinear_weight(channels, weight.size(2)),
        /*rtol=*/0,
        /*atol=*/1e-6);
  }
  return store(key, weight).bilinear = bilinear;
}

void WeightCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
}

at::Tensor gemm_convolution(
    const at::Tensor& x,
    const at::Tensor& weight,
    const at::Tensor& bias) {
  const int64_t batch = x.size(0);
  const int64_t channels = x.size(1);
  const int64_t outputs = weight.size(0);
  const int64_t kernel_h = weight.size(2);
  const int64_t kernel_w = weight.size(3);
  const int64_t out_h = x.size(2) - kernel_h + 1;
  const int64_t out_w = x.size(3) - kernel_w + 1;
  // One row per output position, one column per weight element.
  at::Tensor rows;
  if (kernel_h == 1 && kernel_w == 1) {
    // A view when x has channels-last strides (another GEMM's output).
    rows = x.permute({0, 2, 3, 1}).reshape({-1, channels});
  } else {
    rows = at::im2col(x, {kernel_h, kernel_w}, {1, 1}, {0, 0}, {1, 1})
               .transpose(1, 2)
               .reshape({-1, channels * kernel_h * kernel_w});
  }
  const auto matrix = weight.reshape({outputs, -1}).t();
  const auto y =
      bias.defined() ? at::addmm(bias, rows, matrix) : at::mm(rows, matrix);
  return y.view({batch, out_h, out_w, outputs}).permute({0, 3, 1, 2});
}

namespace {

// Whether a packed weight pays: it saves reordering the weight on every
// call, a channels-last input saves reordering the activations in and out.
// Whichever moves fewer elements wins: the weights of fully connected layers
// (fc6: 38M-103M values) against a few thousand positions, the activations
// of the large early layers. Inference tensors have no version counter to
// validate a cache with.
bool packs_weight(const torch::nn::Conv2dImpl& conv, const at::Tensor& x) {
  const bool onednn =
      at::hasMKLDNN() && at::globalContext().userEnabledMkldnn();
  const int64_t positions = x.size(0) * x.size(2) * x.size(3);
  const bool weight_heavy =
      conv.weight.numel() > positions * (x.size(1) + conv.weight.size(0));
  return onednn && weight_heavy && !conv.weight.is_inference();
}

// Unpadded, stride 1, undilated, ungrouped: fc6, fc7 and the scorers.
bool is_plain_product(const ConvShape& layer) {
  auto all_equal = [](const std::vector<int64_t>& values, int64_t value) {
    return values[0] == value && values[1] == value;
  };
  return all_equal(layer.pad, 0) && all_equal(layer.stride, 1) &&
      all_equal(layer.dilation, 1) && layer.groups == 1;
}

at::Tensor convolve_bfloat16(
    const ConvShape& layer,
    torch::nn::Conv2dImpl& conv,
    const at::Tensor& x,
    WeightCache& cache) {
  if (at::GradMode::is_enabled() && !is_plain_product(layer)) {
    return conv.forward(x); // autocast casts
  }
  const auto input = x.to(at::kBFloat16);
  const auto bias =
      conv.bias.defined() ? conv.bias.to(at::kBFloat16) : at::Tensor();
  if (at::GradMode::is_enabled()) {
    // The casts are part of the graph: gradients reach the float32
    // parameters in float32.
    return gemm_convolution(input, conv.weight.to(at::kBFloat16), bias);
  }
  if (packs_weight(conv, input)) {
    return at::mkldnn_convolution(
        input.contiguous(),
        cache.packed(layer, conv.weight, at::kBFloat16),
        bias,
        layer.pad,
        layer.stride,
        layer.dilation,
        layer.groups);
  }
  if (conv.weight.is_inference()) {
    return conv.forward(x);
  }
  return at::conv2d(
      input.contiguous(at::MemoryFormat::ChannelsLast),
      cache.converted(layer.name, conv.weight, at::kBFloat16),
      bias,
      layer.stride,
      layer.pad,
      layer.dilation,
      layer.groups);
}

} // namespace

at::Tensor convolve(
    const ConvShape& layer,
    torch::nn::Conv2dImpl& conv,
    const at::Tensor& x,
    WeightCache& cache) {
  const bool cpu_float_weight =
      x.device().is_cpu() && conv.weight.scalar_type() == at::kFloat;
  const auto precision = autocast_precision(c10::DeviceType::CPU);
  if (cpu_float_weight && precision == Precision::kBFloat16 &&
      at::isFloatingType(x.scalar_type())) {
    return convolve_bfloat16(layer, conv, x, cache);
  }
  if (!cpu_float_weight || x.scalar_type() != at::kFloat ||
      precision != Precision::kFloat32) {
    return conv.forward(x);
  }
  if (!at::GradMode::is_enabled()) {
    const at::Tensor winograd =
        winograd_convolution(layer, x, conv.weight, conv.bias, cache);
    if (winograd.defined()) {
      return winograd;
    }
    if (packs_weight(conv, x)) {
      return at::mkldnn_convolution(
          x.contiguous(),
          cache.packed(layer, conv.weight),
          conv.bias,
          layer.pad,
          layer.stride,
          layer.dilation,
          layer.groups);
    }
    return conv.forward(x);
  }
  if (is_plain_product(layer)) {
    return gemm_convolution(x, conv.weight, conv.bias);
  }
  return conv.forward(x);
}

} // namespace detail
} // namespace models
} // namespace fcnlab
