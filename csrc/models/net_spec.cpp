#include <fcnlab/models/net_spec.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <limits>
#include <set>

namespace fcnlab {
namespace models {
namespace {

constexpr std::pair<LayerType, const char*> kTypeNames[] = {
    {LayerType::kConvolution, "Convolution"},
    {LayerType::kDeconvolution, "Deconvolution"},
    {LayerType::kPooling, "Pooling"},
    {LayerType::kLRN, "LRN"},
    {LayerType::kReLU, "ReLU"},
    {LayerType::kDropout, "Dropout"},
    {LayerType::kPower, "Power"},
    {LayerType::kCrop, "Crop"},
    {LayerType::kEltwise, "Eltwise"},
    {LayerType::kScale, "Scale"},
    {LayerType::kConcat, "Concat"},
    {LayerType::kSoftmax, "Softmax"},
};

// Whether the layer at `from` needs (through its bottoms, transitively) a
// blob that the layer at `target` produces: then `target` reading a top of
// `from` closes a cycle.
bool depends_on(
    const NetSpec& spec,
    size_t from,
    size_t target,
    const std::multimap<std::string, size_t>& producers) {
  std::vector<size_t> stack{from};
  std::set<size_t> seen;
  while (!stack.empty()) {
    const size_t index = stack.back();
    stack.pop_back();
    if (index == target) {
      return true;
    }
    if (!seen.insert(index).second) {
      continue;
    }
    for (const auto& bottom : spec.layers[index].bottoms) {
      auto range = producers.equal_range(bottom);
      for (auto it = range.first; it != range.second; ++it) {
        if (it->second != index) {
          stack.push_back(it->second);
        }
      }
    }
  }
  return false;
}

void check_bottoms(const NetSpec& spec, const LayerSpec& layer) {
  const size_t count = layer.bottoms.size();
  size_t minimum = 1;
  size_t maximum = 1;
  switch (layer.type) {
    case LayerType::kCrop:
      minimum = maximum = 2;
      break;
    case LayerType::kEltwise:
      minimum = 2;
      maximum = SIZE_MAX;
      break;
    case LayerType::kConcat:
      maximum = SIZE_MAX;
      break;
    default:
      break;
  }
  TORCH_CHECK(
      count >= minimum && count <= maximum,
      spec.where(layer),
      ": a ",
      caffe_type_name(layer.type),
      " layer takes ",
      minimum == maximum ? std::to_string(minimum)
                         : "at least " + std::to_string(minimum),
      " bottom",
      minimum == 1 && maximum == 1 ? "" : "s",
      ", got ",
      count);
  TORCH_CHECK(
      layer.tops.size() == 1,
      spec.where(layer),
      ": fcnlab runs layers with exactly one top, got ",
      layer.tops.size());
}

int64_t convolution_channels(
    const NetSpec& spec,
    const LayerSpec& layer,
    int64_t in) {
  const auto& conv = layer.convolution;
  TORCH_CHECK(
      conv.num_output >= 1,
      spec.where(layer),
      ": num_output must be >= 1, got ",
      conv.num_output);
  TORCH_CHECK(
      conv.group >= 1 && in % conv.group == 0 &&
          conv.num_output % conv.group == 0,
      spec.where(layer),
      ": group ",
      conv.group,
      " must divide its ",
      in,
      " input channels and ",
      conv.num_output,
      " outputs");
  return conv.num_output;
}

} // namespace

const char* caffe_type_name(LayerType type) {
  for (const auto& entry : kTypeNames) {
    if (entry.first == type) {
      return entry.second;
    }
  }
  return "Unknown";
}

std::optional<LayerType> layer_type_from_name(const std::string& name) {
  for (const auto& entry : kTypeNames) {
    if (name == entry.second) {
      return entry.first;
    }
  }
  return std::nullopt;
}

ParamRule LayerSpec::param(size_t index) const {
  return index < params.size() ? params[index] : ParamRule{};
}

const LayerSpec* NetSpec::find(const std::string& layer_name) const {
  for (const auto& layer : layers) {
    if (layer.name == layer_name) {
      return &layer;
    }
  }
  return nullptr;
}

std::string NetSpec::where(const LayerSpec& layer) const {
  std::string text = source.empty() ? name : source;
  if (layer.line > 0) {
    text += ":" + std::to_string(layer.line);
  }
  return text + ": layer " + layer.name;
}

ChannelFlow infer_channels(const NetSpec& spec) {
  std::multimap<std::string, size_t> producers;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    for (const auto& top : spec.layers[i].tops) {
      producers.emplace(top, i);
    }
  }
  std::map<std::string, int64_t> channels{{spec.input, 3}};
  ChannelFlow flow;
  std::set<std::string> names;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const LayerSpec& layer = spec.layers[i];
    TORCH_CHECK(
        names.insert(layer.name).second,
        spec.where(layer),
        ": another layer already has this name");
    check_bottoms(spec, layer);
    std::vector<int64_t> in;
    for (const auto& bottom : layer.bottoms) {
      auto it = channels.find(bottom);
      if (it != channels.end()) {
        in.push_back(it->second);
        continue;
      }
      // Not produced yet: a later layer may produce it (a cycle, or layers
      // out of order), or nothing does.
      auto later = producers.equal_range(bottom);
      for (auto p = later.first; p != later.second; ++p) {
        if (p->second > i) {
          const LayerSpec& producer = spec.layers[p->second];
          TORCH_CHECK(
              !depends_on(spec, p->second, i, producers),
              spec.where(layer),
              ": bottom '",
              bottom,
              "' comes from layer ",
              producer.name,
              ", which depends on this layer's output: the layers form a "
              "cycle");
          TORCH_CHECK(
              false,
              spec.where(layer),
              ": bottom '",
              bottom,
              "' is produced only later, by layer ",
              producer.name,
              " (a layer must follow the layers it reads)");
        }
      }
      TORCH_CHECK(
          false,
          spec.where(layer),
          ": unknown bottom '",
          bottom,
          "' (no earlier layer has it as top, and the input is '",
          spec.input,
          "')");
    }

    int64_t out = in[0];
    switch (layer.type) {
      case LayerType::kConvolution:
      case LayerType::kDeconvolution:
        out = convolution_channels(spec, layer, in[0]);
        break;
      case LayerType::kEltwise:
        TORCH_CHECK(
            std::all_of(
                in.begin(), in.end(), [&](int64_t c) { return c == in[0]; }),
            spec.where(layer),
            ": Eltwise bottoms must have the same channels");
        TORCH_CHECK(
            layer.eltwise.coefficients.empty() ||
                layer.eltwise.coefficients.size() == in.size(),
            spec.where(layer),
            ": Eltwise has ",
            layer.eltwise.coefficients.size(),
            " coefficients for ",
            in.size(),
            " bottoms");
        break;
      case LayerType::kConcat:
        if (layer.concat_axis == 1) {
          out = 0;
          for (const int64_t c : in) {
            out += c;
          }
        }
        break;
      case LayerType::kCrop:
        TORCH_CHECK(
            layer.crop.axis >= 2 && layer.crop.axis <= 3,
            spec.where(layer),
            ": Crop axis must be 2 or 3 (height, width), got ",
            layer.crop.axis);
        break;
      case LayerType::kScale:
        TORCH_CHECK(
            layer.scale.axis == 1 && layer.scale.num_axes == 1,
            spec.where(layer),
            ": Scale supports axis 1, num_axes 1 (one value per channel)");
        break;
      default:
        break;
    }
    flow.layer_inputs.push_back(in[0]);
    channels[layer.tops[0]] = out;
  }
  TORCH_CHECK(
      channels.count(spec.output),
      spec.source.empty() ? spec.name : spec.source,
      ": no layer produces the output blob '",
      spec.output,
      "'");
  flow.output = channels.at(spec.output);
  return flow;
}

int64_t validate(const NetSpec& spec) {
  return infer_channels(spec).output;
}

namespace {

int64_t saturating_product(std::initializer_list<int64_t> factors) {
  int64_t product = 1;
  for (const int64_t factor : factors) {
    if (__builtin_mul_overflow(product, factor, &product)) {
      return std::numeric_limits<int64_t>::max();
    }
  }
  return product;
}

} // namespace

std::vector<int64_t> parameter_sizes(
    const LayerSpec& layer,
    int64_t in_channels) {
  const auto& conv = layer.convolution;
  const Window& w = conv.window;
  switch (layer.type) {
    case LayerType::kConvolution:
    case LayerType::kDeconvolution: {
      const int64_t weights = saturating_product(
          {conv.num_output,
           in_channels / std::max<int64_t>(conv.group, 1),
           w.kernel_h,
           w.kernel_w});
      return conv.bias_term ? std::vector<int64_t>{weights, conv.num_output}
                            : std::vector<int64_t>{weights};
    }
    case LayerType::kScale:
      return layer.scale.bias_term
          ? std::vector<int64_t>{in_channels, in_channels}
          : std::vector<int64_t>{in_channels};
    default:
      return {};
  }
}

int64_t parameter_count(const NetSpec& spec) {
  const auto flow = infer_channels(spec);
  int64_t total = 0;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    for (const int64_t size :
         parameter_sizes(spec.layers[i], flow.layer_inputs[i])) {
      if (__builtin_add_overflow(total, size, &total)) {
        return std::numeric_limits<int64_t>::max();
      }
    }
  }
  return total;
}

} // namespace models
} // namespace fcnlab
