#include <fcnlab/models/fcn_net.h>

#include <fcnlab/models/crop.h>
#include <fcnlab/util/autocast.h>

#include "detail/convolution.h"
#include "layers/layer_def.h"
#include "layers/layer_run.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <new>
#include <set>

namespace fcnlab {
namespace models {
namespace {

// The layer that alone reads layer `index`'s output and may be folded into
// it (a spatial Crop after a Deconvolution: LayerDef::folds_next_crop), or
// -1.
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
      const auto& def = layers::layer_def(layer.type);
      if (crop >= 0 || !def.folds_into_producer ||
          !def.folds_into_producer(layer) || layer.bottoms[0] != top ||
          j < index) {
        return -1;
      }
      crop = static_cast<int64_t>(j);
    }
  }
  return crop;
}

// Whether each layer, written in place, may overwrite its bottom when no
// gradient needs it: the bottom must be a convolution's own output (a
// fresh tensor) that no other layer made a view of since.
std::vector<bool> overwritable_in_place(const NetSpec& spec) {
  std::vector<bool> result;
  std::set<std::string> fresh;
  for (const auto& layer : spec.layers) {
    const auto& def = layers::layer_def(layer.type);
    const bool in_place = layer.tops[0] == layer.bottoms[0];
    result.push_back(
        in_place && def.can_overwrite && def.can_overwrite(layer) &&
        fresh.count(layer.bottoms[0]));
    if (!(in_place && def.can_overwrite)) {
      // A Crop or Dropout output may be a view of its bottom, which must
      // then keep its values.
      for (const auto& bottom : layer.bottoms) {
        fresh.erase(bottom);
      }
      fresh.erase(layer.tops[0]);
    }
    if (def.fresh_output) {
      fresh.insert(layer.tops[0]);
    }
  }
  return result;
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
    const auto& def = layers::layer_def(layer.type);
    std::shared_ptr<torch::nn::Module> module;
    try {
      if (def.make_module) {
        module =
            def.make_module(layer, channels.layer_inputs[i], net.where(layer));
      }
      if (module) {
        register_module(layer.name, module);
        size_t index = 0;
        for (auto& parameter : module->parameters(/*recurse=*/false)) {
          parameter.set_requires_grad(layer.param(index++).lr_mult != 0);
        }
      }
    } catch (const c10::Error& error) {
      // LibTorch's own message (an allocation too large, say) names no layer.
      TORCH_CHECK(
          false, net.where(layer), ": ", error.what_without_backtrace());
    } catch (const std::bad_alloc&) {
      TORCH_CHECK(false, net.where(layer), ": no memory for its weights");
    }
    modules_.push_back(module);
    fused_crop_.push_back(def.folds_next_crop ? crop_to_fuse(net, i) : -1);
  }
  overwritable_in_place_ = overwritable_in_place(net);
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
  run_layers(bgr, [&](size_t index, const std::vector<torch::Tensor>& in) {
    auto y = forward_layer(index, in);
    outputs.emplace_back(spec().layers[index].name, y);
    return y;
  });
  return outputs;
}

torch::Tensor FcnNetImpl::run_layers(
    const torch::Tensor& bgr,
    const LayerCall& call) {
  TORCH_CHECK_VALUE(call, spec().name, ": run_layers needs a layer call");
  return run(bgr, &call);
}

layers::LayerRun FcnNetImpl::layer_run(
    size_t index,
    bool fast,
    bool may_overwrite) {
  return layers::LayerRun{
      spec(),
      spec().layers[index],
      modules_[index].get(),
      {},
      fast,
      may_overwrite,
      *weight_cache_,
      crop_offsets_};
}

torch::Tensor FcnNetImpl::forward_layer(
    size_t index,
    const std::vector<torch::Tensor>& bottoms) {
  const auto& layers = spec().layers;
  TORCH_CHECK_INDEX(
      index < layers.size(),
      spec().name,
      " has ",
      layers.size(),
      " layers, no layer ",
      index);
  const LayerSpec& layer = layers[index];
  TORCH_CHECK_VALUE(
      bottoms.size() == layer.bottoms.size(),
      spec().where(layer),
      ": takes ",
      layer.bottoms.size(),
      " bottoms, got ",
      bottoms.size());
  auto step = layer_run(index, /*fast=*/false, /*may_overwrite=*/false);
  step.in = bottoms;
  return layers::layer_def(layer.type).forward(step);
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

void FcnNetImpl::load_parameters(
    const std::map<std::string, torch::Tensor>& state) {
  auto parameters = named_parameters();
  for (const auto& pair : parameters) {
    const auto it = state.find(pair.key());
    TORCH_CHECK_VALUE(it != state.end(), "state_dict lacks ", pair.key());
    TORCH_CHECK_VALUE(
        it->second.sizes() == pair.value().sizes(),
        pair.key(),
        " has shape ",
        it->second.sizes(),
        ", expected ",
        pair.value().sizes());
  }
  for (const auto& entry : state) {
    TORCH_CHECK_VALUE(
        parameters.contains(entry.first),
        "state_dict has ",
        entry.first,
        ", which ",
        spec().name,
        " does not have");
  }
  torch::NoGradGuard no_grad;
  for (auto& pair : parameters) {
    pair.value().copy_(state.at(pair.key()));
  }
}

std::vector<NamedParameter> FcnNetImpl::layer_parameters() const {
  std::vector<NamedParameter> result;
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

torch::Tensor FcnNetImpl::run(const torch::Tensor& bgr, const LayerCall* call) {
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
  // A layer call sees every layer's own output; forward() may fuse or
  // reorder work.
  const bool fast = call == nullptr;

  std::map<std::string, torch::Tensor> blobs;
  torch::Tensor image = bgr;
  if (!net.mean.empty()) {
    image = bgr - torch::tensor(net.mean, bgr.options()).view({1, -1, 1, 1});
  }
  // Under CPU autocast in bfloat16 the activations stay bfloat16 from the
  // first layer on (the mean is subtracted in float32).
  const bool cpu_bfloat16 = image.device().is_cpu() &&
      autocast_precision(c10::DeviceType::CPU) == Precision::kBFloat16;
  // On CPU, oneDNN convolves channels-last activations without reordering
  // them into its blocked layout and back, and pools them several times
  // faster (about 1.5x and 3x for VGG16's first layers).
  if (fast && !torch::GradMode::is_enabled() && image.device().is_cpu()) {
    if (cpu_bfloat16) {
      image = image.to(at::kBFloat16);
    }
    image = image.contiguous(at::MemoryFormat::ChannelsLast);
  }
  blobs[net.input] = image;
  // Crops that the Deconvolution before them did already.
  std::vector<bool> cropped_already(net.layers.size());
  const bool overwrite = fast && !torch::GradMode::is_enabled();

  for (size_t i = 0; i < net.layers.size(); ++i) {
    const LayerSpec& layer = net.layers[i];
    // A named range per layer for profilers (torch.profiler, chrome traces).
    RECORD_USER_SCOPE(std::string("fcnlab::") + layer.name);
    auto step = layer_run(i, fast, overwrite && overwritable_in_place_[i]);
    for (const auto& bottom : layer.bottoms) {
      step.in.push_back(blobs.at(bottom));
    }
    torch::Tensor y;
    if (call) {
      y = (*call)(i, step.in);
    } else {
      const int64_t fold = fused_crop_[i];
      if (fold >= 0) {
        step.crop_to_fold = &net.layers[fold];
        const auto reference = blobs.find(step.crop_to_fold->bottoms[1]);
        if (reference != blobs.end()) {
          step.crop_reference = &reference->second;
        }
      }
      step.cropped_already = cropped_already[i];
      y = layers::layer_def(layer.type).forward(step);
      if (step.folded_crop) {
        cropped_already[fold] = true;
      }
    }
    TORCH_CHECK_VALUE(
        y.defined(), net.where(layer), ": the layer call returned no tensor");
    step.in.clear();
    for (const auto& blob : release_after_[i]) {
      blobs.erase(blob);
    }
    blobs[layer.tops[0]] = y;
  }
  // Losses, softmax and metrics take the scores in float32.
  auto scores = blobs.at(net.output);
  return cpu_bfloat16 && scores.scalar_type() == at::kBFloat16
      ? scores.to(at::kFloat)
      : scores;
}

} // namespace models
} // namespace fcnlab
