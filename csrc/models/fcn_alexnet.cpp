#include <fcnlab/models/fcn_alexnet.h>

#include <fcnlab/models/bilinear.h>

#include "detail/convolution.h"
#include "detail/local_response_norm.h"
#include "detail/separable_upsampling.h"

#include <torch/nn/init.h>
#include <torch/nn/options/conv.h>
#include <torch/nn/options/dropout.h>
#include <torch/nn/options/normalization.h>
#include <torch/nn/options/pooling.h>

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <map>

namespace fcnlab {
namespace models {
namespace {

FcnAlexNetLayer conv(
    std::string name,
    std::string bottom,
    int64_t in_channels,
    int64_t out_channels,
    int64_t kernel,
    int64_t stride = 1,
    int64_t pad = 0,
    int64_t groups = 1) {
  FcnAlexNetLayer layer{name, LayerType::kConvolution, bottom, name};
  layer.in_channels = in_channels;
  layer.out_channels = out_channels;
  layer.kernel = kernel;
  layer.stride = stride;
  layer.pad = pad;
  layer.groups = groups;
  return layer;
}

// Caffe's ReLU and Dropout layers work in place: bottom and top are the same.
FcnAlexNetLayer in_place(std::string name, LayerType type, std::string blob) {
  return {std::move(name), type, blob, blob};
}

FcnAlexNetLayer pool(std::string name, std::string bottom) {
  FcnAlexNetLayer layer{name, LayerType::kPooling, std::move(bottom), name};
  layer.kernel = 3;
  layer.stride = 2;
  return layer;
}

FcnAlexNetLayer lrn(std::string name, std::string bottom) {
  return {name, LayerType::kLRN, std::move(bottom), name};
}

const FcnAlexNetLayer& find_layer(
    const std::vector<FcnAlexNetLayer>& layers,
    const std::string& name) {
  auto it = std::find_if(layers.begin(), layers.end(), [&](const auto& l) {
    return l.name == name;
  });
  TORCH_CHECK(it != layers.end(), "FCN-Alexnet has no layer ", name);
  return *it;
}

torch::nn::Conv2dOptions conv_options(const FcnAlexNetLayer& layer) {
  return torch::nn::Conv2dOptions(
             layer.in_channels, layer.out_channels, layer.kernel)
      .stride(layer.stride)
      .padding(layer.pad)
      .groups(layer.groups)
      .bias(layer.bias);
}

torch::nn::MaxPool2dOptions pool_options(const FcnAlexNetLayer& layer) {
  // Caffe rounds pooled sizes up; floor rounding would leave upscore too
  // small to crop for many input sizes.
  return torch::nn::MaxPool2dOptions(layer.kernel)
      .stride(layer.stride)
      .padding(layer.pad)
      .ceil_mode(true);
}

torch::nn::LocalResponseNormOptions lrn_options() {
  return torch::nn::LocalResponseNormOptions(kLrnSize)
      .alpha(kLrnAlpha)
      .beta(kLrnBeta)
      .k(kLrnK);
}

} // namespace

const char* caffe_type_name(LayerType type) {
  switch (type) {
    case LayerType::kPower:
      return "Power";
    case LayerType::kConvolution:
      return "Convolution";
    case LayerType::kReLU:
      return "ReLU";
    case LayerType::kPooling:
      return "Pooling";
    case LayerType::kLRN:
      return "LRN";
    case LayerType::kDropout:
      return "Dropout";
    case LayerType::kDeconvolution:
      return "Deconvolution";
    case LayerType::kCrop:
      return "Crop";
  }
  return "Unknown";
}

LayerGeometry FcnAlexNetLayer::geometry() const {
  LayerKind kind = LayerKind::kPointwise;
  if (type == LayerType::kConvolution || type == LayerType::kPooling) {
    kind = LayerKind::kConvolution;
  } else if (type == LayerType::kDeconvolution) {
    kind = LayerKind::kDeconvolution;
  }
  return {name, kind, kernel, stride, pad};
}

std::vector<FcnAlexNetLayer> fcn_alexnet_layers(
    const FcnAlexNetOptions& options) {
  const int64_t classes = options.num_classes();
  TORCH_CHECK_VALUE(
      classes >= 1, "FCN-Alexnet needs num_classes >= 1, got ", classes);
  TORCH_CHECK_VALUE(
      options.mean().size() == 1 || options.mean().size() == 3,
      "FCN-Alexnet mean takes 1 value or 3 (B, G, R), got ",
      options.mean().size());
  TORCH_CHECK_VALUE(
      options.dropout() >= 0 && options.dropout() < 1,
      "FCN-Alexnet dropout must be in [0, 1), got ",
      options.dropout());

  FcnAlexNetLayer upscore{
      "upscore", LayerType::kDeconvolution, "score_fr", "upscore"};
  upscore.in_channels = classes;
  upscore.out_channels = classes;
  upscore.kernel = 63;
  upscore.stride = 32;
  upscore.groups = classes;
  upscore.bias = false;

  return {
      {"shift", LayerType::kPower, "data", "shifted"},
      // pad 100 makes every input size, even 1x1, reach fc6 with room left
      // for the crop.
      conv("conv1", "shifted", 3, 96, 11, /*stride=*/4, /*pad=*/100),
      in_place("relu1", LayerType::kReLU, "conv1"),
      pool("pool1", "conv1"),
      lrn("norm1", "pool1"),
      conv("conv2", "norm1", 96, 256, 5, 1, /*pad=*/2, /*groups=*/2),
      in_place("relu2", LayerType::kReLU, "conv2"),
      pool("pool2", "conv2"),
      lrn("norm2", "pool2"),
      conv("conv3", "norm2", 256, 384, 3, 1, /*pad=*/1),
      in_place("relu3", LayerType::kReLU, "conv3"),
      conv("conv4", "conv3", 384, 384, 3, 1, /*pad=*/1, /*groups=*/2),
      in_place("relu4", LayerType::kReLU, "conv4"),
      conv("conv5", "conv4", 384, 256, 3, 1, /*pad=*/1, /*groups=*/2),
      in_place("relu5", LayerType::kReLU, "conv5"),
      pool("pool5", "conv5"),
      conv("fc6", "pool5", 256, 4096, 6),
      in_place("relu6", LayerType::kReLU, "fc6"),
      in_place("drop6", LayerType::kDropout, "fc6"),
      conv("fc7", "fc6", 4096, 4096, 1),
      in_place("relu7", LayerType::kReLU, "fc7"),
      in_place("drop7", LayerType::kDropout, "fc7"),
      conv("score_fr", "fc7", 4096, classes, 1),
      upscore,
      {"score", LayerType::kCrop, "upscore", "score"},
  };
}

int64_t crop_offset(const std::vector<FcnAlexNetLayer>& layers) {
  std::vector<LayerGeometry> geometry;
  for (const auto& layer : layers) {
    if (layer.type == LayerType::kCrop) {
      break;
    }
    geometry.push_back(layer.geometry());
  }
  return crop_offset(geometry);
}

FcnAlexNetImpl::FcnAlexNetImpl(FcnAlexNetOptions options_)
    : options(std::move(options_)) {
  reset();
}

void FcnAlexNetImpl::reset() {
  layers_ = fcn_alexnet_layers(options);

  std::map<std::string, torch::nn::AnyModule> modules;
  auto add = [&](const std::string& name, auto module) {
    modules.emplace(name, torch::nn::AnyModule(module));
    return register_module(name, module);
  };
  auto conv_layer = [&](const char* name) {
    return add(
        name, torch::nn::Conv2d(conv_options(find_layer(layers_, name))));
  };
  auto pool_layer = [&](const char* name) {
    return add(
        name, torch::nn::MaxPool2d(pool_options(find_layer(layers_, name))));
  };
  auto dropout = torch::nn::DropoutOptions(options.dropout());

  conv1 = conv_layer("conv1");
  pool1 = pool_layer("pool1");
  norm1 = add("norm1", torch::nn::LocalResponseNorm(lrn_options()));
  conv2 = conv_layer("conv2");
  pool2 = pool_layer("pool2");
  norm2 = add("norm2", torch::nn::LocalResponseNorm(lrn_options()));
  conv3 = conv_layer("conv3");
  conv4 = conv_layer("conv4");
  conv5 = conv_layer("conv5");
  pool5 = pool_layer("pool5");
  fc6 = conv_layer("fc6");
  drop6 = add("drop6", torch::nn::Dropout(dropout));
  fc7 = conv_layer("fc7");
  drop7 = add("drop7", torch::nn::Dropout(dropout));
  score_fr = conv_layer("score_fr");
  const auto& up = find_layer(layers_, "upscore");
  upscore = add(
      "upscore",
      torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(
                                     up.in_channels, up.out_channels, up.kernel)
                                     .stride(up.stride)
                                     .groups(up.groups)
                                     .bias(false)));

  steps_.clear();
  for (const auto& layer : layers_) {
    auto it = modules.find(layer.name);
    steps_.push_back(it == modules.end() ? torch::nn::AnyModule() : it->second);
  }
  crop_offset_ = models::crop_offset(layers_);
  weight_cache_ = std::make_shared<detail::WeightCache>();

  torch::NoGradGuard no_grad;
  for (auto* layer : {&conv1, &conv2, &conv3, &conv4, &conv5}) {
    torch::nn::init::kaiming_normal_(
        (*layer)->weight, /*a=*/0, torch::kFanIn, torch::kReLU);
    (*layer)->bias.zero_();
  }
  // CaffeNet's fully connected initialisation: small fc6/fc7 outputs keep
  // the first updates of the 4096-input scorer from overshooting.
  for (auto* layer : {&fc6, &fc7}) {
    (*layer)->weight.normal_(0, kFullyConnectedStd);
    (*layer)->bias.zero_();
  }
  // He initialisation assumes unit-variance inputs; shifted BGR pixels vary
  // by about 64, so conv1 starts that much smaller to keep activations near
  // unit scale from the first layer on.
  conv1->weight.div_(kInputScale);
  // FCN starts the class scorer at zero: the first updates then come from
  // the loss alone, not from random class preferences.
  score_fr->weight.zero_();
  score_fr->bias.zero_();
  upscore->weight.copy_(
      bilinear_upsampling_weight(options.num_classes(), up.kernel));
  upscore->weight.set_requires_grad(false);
}

std::shared_ptr<torch::nn::Module> FcnAlexNetImpl::clone(
    const c10::optional<torch::Device>& device) const {
  auto copy = Cloneable<FcnAlexNetImpl>::clone(device);
  std::dynamic_pointer_cast<FcnAlexNetImpl>(copy)
      ->upscore->weight.set_requires_grad(false);
  return copy;
}

torch::Tensor FcnAlexNetImpl::forward(const torch::Tensor& bgr) {
  return run(bgr, nullptr);
}

std::vector<std::pair<std::string, torch::Tensor>> FcnAlexNetImpl::trace(
    const torch::Tensor& bgr) {
  std::vector<std::pair<std::string, torch::Tensor>> outputs;
  run(bgr, [&](const std::string& name, const torch::Tensor& output) {
    outputs.emplace_back(name, output);
  });
  return outputs;
}

void FcnAlexNetImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (on) {
    weight_cache_->clear();
  }
}

void FcnAlexNetImpl::check_crop(
    int64_t upscored_h,
    int64_t upscored_w,
    int64_t height,
    int64_t width) const {
  TORCH_CHECK(
      upscored_h >= crop_offset_ + height && upscored_w >= crop_offset_ + width,
      "upscore output ",
      upscored_h,
      "x",
      upscored_w,
      " is too small to crop ",
      height,
      "x",
      width,
      " at offset ",
      crop_offset_);
}

torch::Tensor FcnAlexNetImpl::run(
    const torch::Tensor& bgr,
    const LayerObserver& observe) {
  TORCH_CHECK_VALUE(
      bgr.dim() == 4 && bgr.size(1) == 3,
      "FCN-Alexnet expects N x 3 x H x W BGR images, got shape ",
      bgr.sizes());
  TORCH_CHECK_VALUE(
      bgr.is_floating_point(),
      "FCN-Alexnet expects floating point input (BGR 0..255), got ",
      bgr.scalar_type());
  const int64_t height = bgr.size(2);
  const int64_t width = bgr.size(3);
  // Observers see every layer's own output, so tracing runs the plain
  // modules; forward() may fuse or reorder work (see forward()).
  const bool fast = !observe;
  bool cropped = false;

  torch::Tensor x = bgr;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto& layer = layers_[i];
    // A named range per layer for profilers (torch.profiler, chrome traces).
    RECORD_USER_SCOPE(std::string("fcnlab::") + layer.name);
    switch (layer.type) {
      case LayerType::kPower: {
        const auto mean = torch::tensor(options.mean(), bgr.options());
        x = x - mean.view({1, -1, 1, 1});
        break;
      }
      case LayerType::kReLU:
        x = torch::relu(x);
        break;
      case LayerType::kConvolution:
        x = fast
            ? detail::convolve(
                  layer, *steps_[i].get<torch::nn::Conv2d>(), x, *weight_cache_)
            : steps_[i].forward(x);
        break;
      case LayerType::kLRN:
        x = fast ? detail::local_response_norm(
                       x, kLrnSize, kLrnAlpha, kLrnBeta, kLrnK)
                 : steps_[i].forward(x);
        break;
      case LayerType::kDeconvolution:
        if (fast && weight_cache_->is_bilinear(upscore->weight)) {
          check_crop(
              (x.size(2) - 1) * layer.stride + layer.kernel,
              (x.size(3) - 1) * layer.stride + layer.kernel,
              height,
              width);
          x = detail::separable_upsample_crop(
              x,
              bilinear_profile(layer.kernel),
              layer.stride,
              crop_offset_,
              height,
              width);
          cropped = true;
        } else {
          x = steps_[i].forward(x);
        }
        break;
      case LayerType::kCrop:
        if (!cropped) {
          check_crop(x.size(2), x.size(3), height, width);
          x = x.slice(2, crop_offset_, crop_offset_ + height)
                  .slice(3, crop_offset_, crop_offset_ + width);
        }
        break;
      default:
        x = steps_[i].forward(x);
    }
    if (observe) {
      observe(layer.name, x);
    }
  }
  return x;
}

int64_t FcnAlexNetImpl::num_learnable_parameters() const {
  int64_t count = 0;
  for (const auto& parameter : parameters()) {
    if (parameter.requires_grad()) {
      count += parameter.numel();
    }
  }
  return count;
}

} // namespace models
} // namespace fcnlab
