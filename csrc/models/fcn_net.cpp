#include <fcnlab/models/fcn_net.h>

#include <fcnlab/models/bilinear.h>
#include <fcnlab/models/coord_map.h>
#include <fcnlab/models/layers/scale.h>

#include "detail/convolution.h"
#include "detail/fillers.h"
#include "detail/local_response_norm.h"
#include "detail/separable_upsampling.h"

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/options/conv.h>
#include <torch/nn/options/dropout.h>
#include <torch/nn/options/normalization.h>
#include <torch/nn/options/pooling.h>

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <new>
#include <set>

namespace fcnlab {
namespace models {
namespace {

torch::ExpandingArray<2> pair(int64_t first, int64_t second) {
  return torch::ExpandingArray<2>(std::vector<int64_t>{first, second});
}

detail::ConvShape conv_shape(const LayerSpec& layer) {
  const Window& w = layer.convolution.window;
  return {
      layer.name,
      {w.pad_h, w.pad_w},
      {w.stride_h, w.stride_w},
      {w.dilation_h, w.dilation_w},
      layer.convolution.group};
}

// Kernel, stride, pad, dilation, groups and bias of a (transposed)
// convolution layer.
template <typename Options>
Options sliding(Options options, const LayerSpec& layer) {
  const auto& conv = layer.convolution;
  const Window& w = conv.window;
  return options.kernel_size(pair(w.kernel_h, w.kernel_w))
      .stride(pair(w.stride_h, w.stride_w))
      .padding(pair(w.pad_h, w.pad_w))
      .dilation(pair(w.dilation_h, w.dilation_w))
      .groups(conv.group)
      .bias(conv.bias_term);
}

std::shared_ptr<torch::nn::Module> make_module(
    const LayerSpec& layer,
    int64_t in_channels) {
  const auto& conv = layer.convolution;
  const Window& w =
      layer.type == LayerType::kPooling ? layer.pooling.window : conv.window;
  switch (layer.type) {
    case LayerType::kConvolution:
      return torch::nn::Conv2d(
                 sliding(
                     torch::nn::Conv2dOptions(in_channels, conv.num_output, 1),
                     layer))
          .ptr();
    case LayerType::kDeconvolution:
      return torch::nn::ConvTranspose2d(
                 sliding(
                     torch::nn::ConvTranspose2dOptions(
                         in_channels, conv.num_output, 1),
                     layer))
          .ptr();
    case LayerType::kPooling:
      if (layer.pooling.global) {
        return nullptr;
      }
      if (layer.pooling.method == PoolMethod::kMax) {
        return torch::nn::MaxPool2d(
                   torch::nn::MaxPool2dOptions(pair(w.kernel_h, w.kernel_w))
                       .stride(pair(w.stride_h, w.stride_w))
                       .padding(pair(w.pad_h, w.pad_w))
                       .ceil_mode(layer.pooling.ceil_mode))
            .ptr();
      }
      // Caffe divides by the window clipped to the padded input, as
      // count_include_pad does.
      return torch::nn::AvgPool2d(
                 torch::nn::AvgPool2dOptions(pair(w.kernel_h, w.kernel_w))
                     .stride(pair(w.stride_h, w.stride_w))
                     .padding(pair(w.pad_h, w.pad_w))
                     .ceil_mode(layer.pooling.ceil_mode)
                     .count_include_pad(true))
          .ptr();
    case LayerType::kLRN:
      return torch::nn::LocalResponseNorm(
                 torch::nn::LocalResponseNormOptions(layer.lrn.local_size)
                     .alpha(layer.lrn.alpha)
                     .beta(layer.lrn.beta)
                     .k(layer.lrn.k))
          .ptr();
    case LayerType::kDropout:
      return torch::nn::Dropout(torch::nn::DropoutOptions(layer.dropout_ratio))
          .ptr();
    case LayerType::kScale:
      return Scale(in_channels, layer.scale.bias_term).ptr();
    default:
      return nullptr;
  }
}

// Fills the parameters of one layer's module from its description.
void initialise(
    const LayerSpec& layer,
    torch::nn::Module& module,
    const NetSpec& spec) {
  const std::string where = spec.where(layer);
  auto parameters = module.named_parameters(/*recurse=*/false);
  for (auto& pair : parameters) {
    auto& tensor = pair.value();
    const bool is_weight = pair.key() == "weight";
    if (layer.type == LayerType::kScale) {
      detail::fill(
          tensor,
          is_weight ? layer.scale.filler : layer.scale.bias_filler,
          where);
    } else if (!is_weight) {
      detail::fill(tensor, layer.convolution.bias_filler, where);
    } else if (layer.convolution.weight_filler) {
      detail::fill(tensor, *layer.convolution.weight_filler, where);
    } else if (
        layer.type == LayerType::kDeconvolution &&
        layer.param(0).lr_mult == 0) {
      detail::fill_fixed_bilinear(tensor);
    } else {
      detail::fill(tensor, Filler{}, where);
    }
  }
  size_t index = 0;
  for (auto& pair : parameters) {
    pair.value().set_requires_grad(layer.param(index++).lr_mult != 0);
  }
}

// The Crop that alone reads Deconvolution `index`'s output as the blob to
// crop (spatially, from axis 2), or -1.
int64_t crop_to_fuse(const NetSpec& spec, size_t index) {
  const std::string& top = spec.layers[index].tops[0];
  if (top == spec.output) {
    return -1;
  }
  int64_t crop = -1;
  for (size_t j = 0; j < spec.layers.size(); ++j) {
    const auto& layer = spec.layers[j];
    const bool reads =
        std::count(layer.bottoms.begin(), layer.bottoms.end(), top);
    const bool writes =
        j != index && std::count(layer.tops.begin(), layer.tops.end(), top);
    if (writes) {
      return -1;
    }
    if (reads) {
      if (crop >= 0 || layer.type != LayerType::kCrop ||
          layer.bottoms[0] != top || layer.crop.axis != 2 || j < index) {
        return -1;
      }
      crop = static_cast<int64_t>(j);
    }
  }
  return crop;
}

std::string size_text(int64_t h, int64_t w) {
  return std::to_string(h) + "x" + std::to_string(w);
}

} // namespace

FcnNetImpl::FcnNetImpl(FcnNetOptions options_) : options(std::move(options_)) {
  build();
}

void FcnNetImpl::build() {
  NetSpec& net = options.spec();
  const auto channels = infer_channels(net);
  num_classes_ = channels.output;
  TORCH_CHECK_VALUE(
      net.mean.empty() || net.mean.size() == 1 || net.mean.size() == 3,
      net.source,
      ": the input mean takes 1 value or 3 (B, G, R), got ",
      net.mean.size());
  crop_offsets_ = resolve_crop_offsets(net);

  modules_.clear();
  fused_crop_.clear();
  release_after_.assign(net.layers.size(), {});
  std::map<std::string, size_t> last_read;
  for (size_t i = 0; i < net.layers.size(); ++i) {
    for (const auto& bottom : net.layers[i].bottoms) {
      last_read[bottom] = i;
    }
  }
  for (const auto& [blob, layer] : last_read) {
    if (blob != net.output) {
      release_after_[layer].push_back(blob);
    }
  }
  for (size_t i = 0; i < net.layers.size(); ++i) {
    const LayerSpec& layer = net.layers[i];
    std::shared_ptr<torch::nn::Module> module;
    try {
      module = make_module(layer, channels.layer_inputs[i]);
      if (module) {
        register_module(layer.name, module);
        initialise(layer, *module, net);
      }
    } catch (const c10::Error& error) {
      // LibTorch's own message (an allocation too large, say) names no layer.
      TORCH_CHECK(
          false, net.where(layer), ": ", error.what_without_backtrace());
    } catch (const std::bad_alloc&) {
      TORCH_CHECK(false, net.where(layer), ": no memory for its weights");
    }
    modules_.push_back(module);
    fused_crop_.push_back(
        layer.type == LayerType::kDeconvolution ? crop_to_fuse(net, i) : -1);
  }
  weight_cache_ = std::make_shared<detail::WeightCache>();
}

std::shared_ptr<FcnNetImpl> FcnNetImpl::make_like() const {
  return std::make_shared<FcnNetImpl>(options);
}

std::shared_ptr<torch::nn::Module> FcnNetImpl::clone(
    const c10::optional<torch::Device>& device) const {
  auto copy = make_like();
  copy->to(device.value_or(this->device()));
  torch::NoGradGuard no_grad;
  auto mine = named_parameters();
  for (auto& pair : copy->named_parameters()) {
    pair.value().copy_(mine[pair.key()]);
  }
  auto my_buffers = named_buffers();
  for (auto& pair : copy->named_buffers()) {
    pair.value().copy_(my_buffers[pair.key()]);
  }
  copy->train(is_training());
  return copy;
}

torch::Tensor FcnNetImpl::forward(const torch::Tensor& bgr) {
  return run(bgr, nullptr);
}

std::vector<std::pair<std::string, torch::Tensor>> FcnNetImpl::trace(
    const torch::Tensor& bgr) {
  std::vector<std::pair<std::string, torch::Tensor>> outputs;
  run(bgr, [&](const std::string& name, const torch::Tensor& output) {
    outputs.emplace_back(name, output);
  });
  return outputs;
}

void FcnNetImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (on) {
    weight_cache_->clear();
  }
}

torch::Device FcnNetImpl::device() const {
  const auto all = parameters();
  return all.empty() ? torch::Device(torch::kCPU) : all.front().device();
}

std::vector<LayerParameter> FcnNetImpl::layer_parameters() const {
  std::vector<LayerParameter> result;
  const auto& layers = spec().layers;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (!modules_[i]) {
      continue;
    }
    size_t index = 0;
    for (const auto& pair : modules_[i]->named_parameters(/*recurse=*/false)) {
      result.push_back(
          {layers[i].name + "." + pair.key(),
           pair.value(),
           layers[i].param(index++)});
    }
  }
  return result;
}

int64_t FcnNetImpl::num_learnable_parameters() const {
  int64_t count = 0;
  for (const auto& parameter : parameters()) {
    if (parameter.requires_grad()) {
      count += parameter.numel();
    }
  }
  return count;
}

torch::Tensor FcnNetImpl::run(
    const torch::Tensor& bgr,
    const LayerObserver& observe) {
  const NetSpec& net = spec();
  TORCH_CHECK_VALUE(
      bgr.dim() == 4 && bgr.size(1) == 3,
      net.name,
      " expects N x 3 x H x W BGR images, got shape ",
      bgr.sizes());
  TORCH_CHECK_VALUE(
      bgr.is_floating_point(),
      net.name,
      " expects floating point input (BGR 0..255), got ",
      bgr.scalar_type());
  // Observers see every layer's own output, so tracing runs the plain
  // modules; forward() may fuse or reorder work.
  const bool fast = !observe;

  std::map<std::string, torch::Tensor> blobs;
  torch::Tensor image = bgr;
  if (!net.mean.empty()) {
    image = bgr - torch::tensor(net.mean, bgr.options()).view({1, -1, 1, 1});
  }
  // On CPU, oneDNN convolves channels-last activations without reordering
  // them into its blocked layout and back, and pools them several times
  // faster (about 1.5x and 3x for VGG16's first layers).
  if (fast && !torch::GradMode::is_enabled() && image.device().is_cpu()) {
    image = image.contiguous(at::MemoryFormat::ChannelsLast);
  }
  blobs[net.input] = image;
  std::set<size_t> cropped_early;
  // Blobs holding a convolution's own output, which nothing else refers to:
  // an in-place ReLU may overwrite them when no gradient needs them.
  std::set<std::string> own_outputs;
  const bool overwrite = fast && !torch::GradMode::is_enabled();

  for (size_t i = 0; i < net.layers.size(); ++i) {
    const LayerSpec& layer = net.layers[i];
    // A named range per layer for profilers (torch.profiler, chrome traces).
    RECORD_USER_SCOPE(std::string("fcnlab::") + layer.name);
    std::vector<torch::Tensor> in;
    for (const auto& bottom : layer.bottoms) {
      in.push_back(blobs.at(bottom));
    }
    const torch::Tensor& x = in[0];
    torch::nn::Module* module = modules_[i].get();
    torch::Tensor y;
    switch (layer.type) {
      case LayerType::kConvolution: {
        auto& conv = *module->as<torch::nn::Conv2dImpl>();
        y = fast ? detail::convolve(conv_shape(layer), conv, x, *weight_cache_)
                 : conv.forward(x);
        break;
      }
      case LayerType::kDeconvolution: {
        auto& deconv = *module->as<torch::nn::ConvTranspose2dImpl>();
        const Window& w = layer.convolution.window;
        const bool separable = fast && w.kernel_h == w.kernel_w &&
            w.stride_h == w.stride_w && w.dilation_h == 1 &&
            w.dilation_w == 1 && w.pad_h == w.pad_w &&
            weight_cache_->is_bilinear(
                layer.name, deconv.weight, layer.convolution.group);
        if (!separable) {
          y = deconv.forward(x, c10::nullopt);
          break;
        }
        const int64_t full_h = (x.size(2) - 1) * w.stride_h + w.kernel_h;
        const int64_t full_w = (x.size(3) - 1) * w.stride_w + w.kernel_w;
        int64_t top = w.pad_h;
        int64_t left = w.pad_w;
        int64_t height = full_h - 2 * w.pad_h;
        int64_t width = full_w - 2 * w.pad_w;
        const int64_t fused = fused_crop_[i];
        if (fused >= 0 && blobs.count(net.layers[fused].bottoms[1])) {
          const auto& crop = net.layers[fused];
          const auto& ref = blobs.at(crop.bottoms[1]);
          const auto [off_y, off_x] = crop_offsets_.at(crop.name);
          TORCH_CHECK(
              height >= off_y + ref.size(2) && width >= off_x + ref.size(3),
              net.where(crop),
              ": ",
              layer.tops[0],
              " is ",
              size_text(height, width),
              ", too small to crop ",
              size_text(ref.size(2), ref.size(3)),
              " at offset (",
              off_y,
              ", ",
              off_x,
              ")");
          top += off_y;
          left += off_x;
          height = ref.size(2);
          width = ref.size(3);
          cropped_early.insert(static_cast<size_t>(fused));
        }
        y = detail::separable_upsample_crop(
            x,
            bilinear_profile(w.kernel_h),
            w.stride_h,
            top,
            left,
            height,
            width);
        if (deconv.bias.defined()) {
          y = y + deconv.bias.view({1, -1, 1, 1});
        }
        break;
      }
      case LayerType::kCrop: {
        if (cropped_early.count(i)) {
          y = x;
          break;
        }
        const auto& ref = in[1];
        const auto [off_y, off_x] = crop_offsets_.at(layer.name);
        const bool crop_height = layer.crop.axis <= 2;
        const int64_t height = crop_height ? ref.size(2) : x.size(2);
        TORCH_CHECK(
            x.size(2) >= off_y + height && x.size(3) >= off_x + ref.size(3),
            net.where(layer),
            ": ",
            layer.bottoms[0],
            " is ",
            size_text(x.size(2), x.size(3)),
            ", too small to crop ",
            size_text(height, ref.size(3)),
            " at offset (",
            off_y,
            ", ",
            off_x,
            ")");
        y = x.slice(2, off_y, off_y + height)
                .slice(3, off_x, off_x + ref.size(3));
        break;
      }
      case LayerType::kPooling:
        if (layer.pooling.global) {
          y = layer.pooling.method == PoolMethod::kMax
              ? x.amax({2, 3}, /*keepdim=*/true)
              : x.mean({2, 3}, /*keepdim=*/true);
        } else if (layer.pooling.method == PoolMethod::kMax) {
          y = module->as<torch::nn::MaxPool2dImpl>()->forward(x);
        } else {
          y = module->as<torch::nn::AvgPool2dImpl>()->forward(x);
        }
        break;
      case LayerType::kLRN:
        y = fast ? detail::local_response_norm(
                       x,
                       layer.lrn.local_size,
                       layer.lrn.alpha,
                       layer.lrn.beta,
                       layer.lrn.k)
                 : (*module->as<torch::nn::LocalResponseNormImpl>()).forward(x);
        break;
      case LayerType::kReLU:
        if (overwrite && layer.negative_slope == 0 &&
            layer.tops[0] == layer.bottoms[0] &&
            own_outputs.count(layer.bottoms[0])) {
          y = at::relu_(in[0]);
        } else {
          y = layer.negative_slope == 0
              ? at::relu(x)
              : at::leaky_relu(x, layer.negative_slope);
        }
        break;
      case LayerType::kDropout:
        y = module->as<torch::nn::DropoutImpl>()->forward(x);
        break;
      case LayerType::kPower: {
        const auto& p = layer.power;
        y = p.scale == 1 ? x : x * p.scale;
        y = p.shift == 0 ? y : y + p.shift;
        y = p.power == 1 ? y : at::pow(y, p.power);
        break;
      }
      case LayerType::kEltwise: {
        const auto& e = layer.eltwise;
        auto coefficient = [&](size_t k) {
          return e.coefficients.empty() ? 1.0 : e.coefficients[k];
        };
        y = e.operation == EltwiseOp::kSum && coefficient(0) != 1.0
            ? in[0] * coefficient(0)
            : in[0];
        for (size_t k = 1; k < in.size(); ++k) {
          switch (e.operation) {
            case EltwiseOp::kSum:
              y = coefficient(k) == 1.0 ? y + in[k]
                                        : y + in[k] * coefficient(k);
              break;
            case EltwiseOp::kProduct:
              y = y * in[k];
              break;
            case EltwiseOp::kMax:
              y = at::maximum(y, in[k]);
              break;
          }
        }
        break;
      }
      case LayerType::kScale:
        y = module->as<ScaleImpl>()->forward(x);
        break;
      case LayerType::kConcat:
        y = at::cat(in, layer.concat_axis);
        break;
      case LayerType::kSoftmax:
        y = at::softmax(x, layer.softmax_axis);
        break;
    }
    for (const auto& blob : release_after_[i]) {
      blobs.erase(blob);
    }
    blobs[layer.tops[0]] = y;
    const bool in_place_relu =
        layer.type == LayerType::kReLU && layer.tops[0] == layer.bottoms[0];
    if (!in_place_relu) {
      // A Crop or Dropout output may be a view of its bottom, which must
      // then keep its values.
      for (const auto& bottom : layer.bottoms) {
        own_outputs.erase(bottom);
      }
      own_outputs.erase(layer.tops[0]);
    }
    if (layer.type == LayerType::kConvolution) {
      own_outputs.insert(layer.tops[0]);
    }
    if (observe) {
      observe(layer.name, y);
    }
  }
  return blobs.at(net.output);
}

} // namespace models
} // namespace fcnlab
