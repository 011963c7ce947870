#include <fcnlab/models/summary.h>

#include "../util/detail/sizes.h"
#include "layers/layer_def.h"

#include <fcnlab/models/crop.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace fcnlab {
namespace models {
namespace {

std::string format_map(const LayerSummary& row) {
  if (!row.has_map) {
    return "-";
  }
  char text[64];
  const auto& map = row.to_image;
  const char sign = map.offset < 0 ? '-' : '+';
  std::snprintf(
      text,
      sizeof(text),
      "x = %g*u %c %g",
      map.scale,
      sign,
      std::abs(map.offset));
  return text;
}

std::string with_thousands(int64_t value) {
  std::string digits = std::to_string(value);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
    digits.insert(static_cast<size_t>(i), ",");
  }
  return digits;
}

// A layer reading whole planes takes the count that the declared input
// size gives; another size gives it another count.
void check_whole_plane(
    const NetSpec& spec,
    const LayerSpec& layer,
    int64_t channels,
    layers::PlaneSize in,
    int64_t expected,
    int64_t height,
    int64_t width) {
  int64_t area = 0;
  int64_t count = 0;
  const bool overflow = __builtin_mul_overflow(in.height, in.width, &area) ||
      __builtin_mul_overflow(channels, area, &count);
  TORCH_CHECK_VALUE(
      !overflow && count == expected,
      "input ",
      height,
      "x",
      width,
      " gives ",
      spec.where(layer),
      " ",
      channels,
      "x",
      in.height,
      "x",
      in.width,
      " values; it takes ",
      expected,
      ", as at the declared input ",
      spec.input_height,
      "x",
      spec.input_width);
}

} // namespace

NetworkSummary summarize(const NetSpec& spec, int64_t height, int64_t width) {
  TORCH_CHECK_VALUE(
      height >= 1 && width >= 1,
      "summary needs an input of at least 1x1, got ",
      height,
      "x",
      width);
  const ChannelFlow channels = infer_channels(spec); // also validates
  NetworkSummary summary;
  summary.name = spec.name;
  summary.input_height = height;
  summary.input_width = width;
  summary.notes = spec.notes;
  const auto maps = blob_coord_maps(spec);
  const auto offsets = derive_crop_offsets(spec);

  std::map<std::string, layers::PlaneSize> blob_sizes{
      {spec.input, {height, width}}};
  std::map<std::string, int64_t> blob_channels{{spec.input, 3}};
  for (size_t index = 0; index < spec.layers.size(); ++index) {
    const LayerSpec& layer = spec.layers[index];
    const auto& def = layers::layer_def(layer.type);
    std::vector<layers::PlaneSize> in_sizes;
    for (const auto& bottom : layer.bottoms) {
      in_sizes.push_back(blob_sizes.at(bottom));
    }
    const layers::PlaneSize& in = in_sizes[0];
    LayerSummary row;
    row.name = layer.name;
    row.type = caffe_type_name(layer.type);
    const auto sizes = parameter_sizes(layer, channels.layer_inputs[index]);
    for (size_t i = 0; i < sizes.size(); ++i) {
      (layer.param(i).lr_mult == 0 ? row.fixed_parameters
                                   : row.learnable_parameters) += sizes[i];
    }
    const int64_t weights = sizes.empty() ? 0 : sizes[0];
    if (def.reads_whole_plane) {
      check_whole_plane(
          spec,
          layer,
          blob_channels.at(layer.bottoms[0]),
          in,
          channels.layer_inputs[index],
          height,
          width);
    }
    const auto out = def.reads_whole_plane ? layers::PlaneSize{1, 1}
        : def.output_size                  ? def.output_size(layer, in_sizes)
                                           : in;
    row.flops = def.flops ? def.flops(in, out, weights) : 0;
    if (const auto offset = offsets.find(layer.name); offset != offsets.end()) {
      const auto [off_h, off_w] = offset->second;
      TORCH_CHECK_VALUE(
          in.height >= off_h + out.height && in.width >= off_w + out.width,
          "input ",
          height,
          "x",
          width,
          " leaves ",
          layer.bottoms[0],
          " ",
          in.height,
          "x",
          in.width,
          ", too small for crop ",
          layer.name,
          " to ",
          out.height,
          "x",
          out.width,
          " at offset ",
          off_h);
      summary.crops.push_back(
          {layer.name, layer.bottoms[0], layer.bottoms[1], off_h, off_w});
      if (layer.tops[0] == spec.output) {
        summary.crop_offset = off_h;
      }
    }
    TORCH_CHECK_VALUE(
        out.height >= 1 && out.width >= 1,
        "input ",
        height,
        "x",
        width,
        " leaves layer ",
        layer.name,
        " with no output");
    blob_sizes[layer.tops[0]] = out;
    blob_channels[layer.tops[0]] = channels.layer_outputs[index];
    row.output_shape = {channels.layer_outputs[index], out.height, out.width};
    const auto map = maps.find(layer.tops[0]);
    row.has_map = map != maps.end();
    if (row.has_map) {
      row.to_image = map->second.y;
    }
    summary.learnable_parameters += row.learnable_parameters;
    summary.fixed_parameters += row.fixed_parameters;
    summary.flops += row.flops;
    summary.layers.push_back(std::move(row));
  }
  return summary;
}

std::pair<int64_t, int64_t> default_input_size(const NetSpec& spec) {
  if (spec.input_height >= 1 && spec.input_width >= 1) {
    return {spec.input_height, spec.input_width};
  }
  return {500, 500};
}

NetworkSummary summarize(
    const FcnAlexNetOptions& options,
    int64_t height,
    int64_t width) {
  return summarize(fcn_alexnet_spec(options), height, width);
}

std::string NetworkSummary::to_string() const {
  size_t name_width = 9;
  size_t type_width = 14;
  for (const auto& row : layers) {
    name_width = std::max(name_width, row.name.size() + 1);
    type_width = std::max(type_width, row.type.size() + 1);
  }
  std::ostringstream out;
  char line[256];
  auto print_row = [&](const std::string& name,
                       const std::string& type,
                       const std::string& shape,
                       const std::string& parameters,
                       const std::string& gflop,
                       const std::string& map) {
    std::snprintf(
        line,
        sizeof(line),
        "%-*s %-*s %-13s %12s %8s  %s\n",
        static_cast<int>(name_width),
        name.c_str(),
        static_cast<int>(type_width),
        type.c_str(),
        shape.c_str(),
        parameters.c_str(),
        gflop.c_str(),
        map.c_str());
    out << line;
  };
  print_row(
      "layer",
      "type",
      "output",
      "parameters",
      "GFLOP",
      "image position of output u");
  print_row(
      "data",
      "Input",
      util::detail::join_sizes({3, input_height, input_width}),
      "",
      "",
      "x = u");
  for (const auto& row : layers) {
    const int64_t parameters = row.learnable_parameters + row.fixed_parameters;
    char gflop[32];
    std::snprintf(gflop, sizeof(gflop), "%.3f", row.flops / 1e9);
    print_row(
        row.name,
        row.type,
        util::detail::join_sizes(row.output_shape),
        parameters ? with_thousands(parameters) : "",
        gflop,
        format_map(row) + (row.fixed_parameters ? "  (fixed)" : ""));
  }
  out << "learnable parameters: " << with_thousands(learnable_parameters)
      << " (+" << with_thousands(fixed_parameters) << " fixed)\n";
  std::snprintf(line, sizeof(line), "%.1f", flops / 1e9);
  out << "forward: " << line << " GFLOP at " << input_height << "x"
      << input_width << "\n";
  for (const auto& crop : crops) {
    const std::string offset = crop.offset_h == crop.offset_w
        ? std::to_string(crop.offset_h)
        : std::to_string(crop.offset_h) + ", " + std::to_string(crop.offset_w);
    out << "crop " << crop.layer << ": offset " << offset << " ("
        << crop.cropped << " position u + " << crop.offset_h << " lies over "
        << crop.reference << " position u, so " << crop.layer << " = "
        << crop.cropped << "[:, :, " << crop.offset_h << ":" << crop.offset_h
        << "+H, " << crop.offset_w << ":" << crop.offset_w << "+W])\n";
  }
  for (const auto& note : notes) {
    out << "note: " << note << "\n";
  }
  return out.str();
}

} // namespace models
} // namespace fcnlab
