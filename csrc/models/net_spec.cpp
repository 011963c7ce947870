#include <fcnlab/models/net_spec.h>

#include "layers/layer_def.h"

#include <c10/util/Exception.h>

#include <limits>
#include <set>

namespace fcnlab {
namespace models {
namespace {

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
  const auto& def = layers::layer_def(layer.type);
  const size_t minimum = def.min_bottoms;
  const size_t maximum = def.max_bottoms;
  TORCH_CHECK(
      count >= minimum && count <= maximum,
      spec.where(layer),
      ": a ",
      def.caffe_name,
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

// C x H x W of a layer's bottom at the declared input size.
int64_t whole_plane_inputs(
    const NetSpec& spec,
    const LayerSpec& layer,
    int64_t channels,
    bool sized,
    layers::PlaneSize plane) {
  const char* type = layers::layer_def(layer.type).caffe_name;
  TORCH_CHECK(
      sized,
      spec.where(layer),
      ": ",
      type,
      " counts its inputs at the network's input size, and none is "
      "declared (an Input layer's shape, input_dim or input_shape, or the "
      "data layer's crop_size)");
  TORCH_CHECK(
      plane.height >= 1 && plane.width >= 1,
      spec.where(layer),
      ": the declared input ",
      spec.input_height,
      "x",
      spec.input_width,
      " leaves no plane for this ",
      type,
      " to read");
  int64_t area = 0;
  int64_t count = 0;
  TORCH_CHECK(
      !__builtin_mul_overflow(plane.height, plane.width, &area) &&
          !__builtin_mul_overflow(channels, area, &count),
      spec.where(layer),
      ": more inputs than an int64 counts");
  return count;
}

} // namespace

const char* caffe_type_name(LayerType type) {
  return static_cast<size_t>(type) < static_cast<size_t>(LayerType::kCount)
      ? layers::layer_def(type).caffe_name
      : "Unknown";
}

std::vector<LayerType> layer_types() {
  std::vector<LayerType> types;
  for (size_t i = 0; i < static_cast<size_t>(LayerType::kCount); ++i) {
    types.push_back(static_cast<LayerType>(i));
  }
  return types;
}

std::optional<LayerType> layer_type_from_name(const std::string& name) {
  const auto* def = layers::find_layer_def(name);
  return def ? std::optional<LayerType>(def->type) : std::nullopt;
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
  // Plane sizes at the declared input size, for layers reading whole planes.
  const bool sized = spec.input_height >= 1 && spec.input_width >= 1;
  std::map<std::string, layers::PlaneSize> planes{
      {spec.input, {spec.input_height, spec.input_width}}};
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

    const auto& def = layers::layer_def(layer.type);
    std::vector<layers::PlaneSize> in_planes;
    for (const auto& bottom : layer.bottoms) {
      in_planes.push_back(sized ? planes[bottom] : layers::PlaneSize{});
    }
    if (def.reads_whole_plane) {
      in[0] = whole_plane_inputs(spec, layer, in[0], sized, in_planes[0]);
    }
    const int64_t out =
        def.out_channels ? def.out_channels(spec, layer, in) : in[0];
    flow.layer_inputs.push_back(in[0]);
    flow.layer_outputs.push_back(out);
    channels[layer.tops[0]] = out;
    if (sized) {
      planes[layer.tops[0]] = def.reads_whole_plane ? layers::PlaneSize{1, 1}
          : def.output_size ? def.output_size(layer, in_planes)
                            : in_planes[0];
    }
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

void validate(const NetSpec& spec) {
  infer_channels(spec);
}

int64_t num_classes(const NetSpec& spec) {
  return infer_channels(spec).output;
}

std::vector<int64_t> parameter_sizes(
    const LayerSpec& layer,
    int64_t in_channels) {
  const auto& def = layers::layer_def(layer.type);
  return def.parameter_sizes ? def.parameter_sizes(layer, in_channels)
                             : std::vector<int64_t>{};
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
