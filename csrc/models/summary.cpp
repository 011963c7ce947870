#include <fcnlab/models/summary.h>

#include "../detail/sizes.h"

#include <c10/util/Exception.h>

#include <cmath>
#include <cstdio>
#include <sstream>

namespace fcnlab {
namespace models {
namespace {

int64_t windows(int64_t size, const FcnAlexNetLayer& layer, bool round_up) {
  const int64_t span = size + 2 * layer.pad - layer.kernel;
  if (span < 0) {
    return 0;
  }
  const int64_t steps =
      round_up ? (span + layer.stride - 1) / layer.stride : span / layer.stride;
  return steps + 1;
}

std::string format_map(const CoordMap& map) {
  char text[64];
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

} // namespace

NetworkSummary summarize(
    const FcnAlexNetOptions& options,
    int64_t height,
    int64_t width) {
  TORCH_CHECK_VALUE(
      height >= 1 && width >= 1,
      "summary needs an input of at least 1x1, got ",
      height,
      "x",
      width);
  NetworkSummary summary;
  summary.input_height = height;
  summary.input_width = width;

  int64_t channels = 3;
  int64_t h = height;
  int64_t w = width;
  CoordMap to_image;
  const auto table = fcn_alexnet_layers(options);
  summary.crop_offset = crop_offset(table);
  for (const auto& layer : table) {
    LayerSummary row;
    row.name = layer.name;
    row.type = caffe_type_name(layer.type);
    const int64_t weights = layer.out_channels *
        (layer.in_channels / layer.groups) * layer.kernel * layer.kernel;
    const int64_t biases = layer.bias ? layer.out_channels : 0;
    switch (layer.type) {
      case LayerType::kConvolution:
      case LayerType::kPooling: {
        const bool is_pool = layer.type == LayerType::kPooling;
        h = windows(h, layer, /*round_up=*/is_pool);
        w = windows(w, layer, /*round_up=*/is_pool);
        if (!is_pool) {
          channels = layer.out_channels;
          row.learnable_parameters = weights + biases;
          row.flops = 2.0 * static_cast<double>(weights) * h * w;
        }
        break;
      }
      case LayerType::kDeconvolution:
        // Every input element scatters a kernel into its group's outputs.
        row.flops = 2.0 * static_cast<double>(weights) * h * w;
        h = (h - 1) * layer.stride - 2 * layer.pad + layer.kernel;
        w = (w - 1) * layer.stride - 2 * layer.pad + layer.kernel;
        channels = layer.out_channels;
        row.fixed_parameters = weights + biases;
        break;
      case LayerType::kCrop:
        h = height;
        w = width;
        break;
      default:
        break;
    }
    // The crop maps score position v to upscore position v + offset.
    to_image = to_image.compose(
        layer.type == LayerType::kCrop
            ? CoordMap{1.0, static_cast<double>(summary.crop_offset)}
            : coord_map(layer.geometry()));
    TORCH_CHECK_VALUE(
        h >= 1 && w >= 1,
        "input ",
        height,
        "x",
        width,
        " leaves layer ",
        layer.name,
        " with no output");
    row.output_shape = {channels, h, w};
    row.to_image = to_image;
    summary.learnable_parameters += row.learnable_parameters;
    summary.fixed_parameters += row.fixed_parameters;
    summary.flops += row.flops;
    summary.layers.push_back(std::move(row));
  }
  return summary;
}

std::string NetworkSummary::to_string() const {
  std::ostringstream out;
  char line[160];
  std::snprintf(
      line,
      sizeof(line),
      "%-9s %-14s %-13s %12s %8s  %s\n",
      "layer",
      "type",
      "output",
      "parameters",
      "GFLOP",
      "image position of output u");
  out << line;
  std::snprintf(
      line,
      sizeof(line),
      "%-9s %-14s %-13s %12s %8s  %s\n",
      "data",
      "Input",
      fcnlab::detail::join_sizes({3, input_height, input_width}).c_str(),
      "",
      "",
      "x = u");
  out << line;
  for (const auto& row : layers) {
    const int64_t parameters = row.learnable_parameters + row.fixed_parameters;
    std::snprintf(
        line,
        sizeof(line),
        "%-9s %-14s %-13s %12s %8.3f  %s%s\n",
        row.name.c_str(),
        row.type.c_str(),
        fcnlab::detail::join_sizes(row.output_shape).c_str(),
        parameters ? with_thousands(parameters).c_str() : "",
        row.flops / 1e9,
        format_map(row.to_image).c_str(),
        row.fixed_parameters ? "  (fixed)" : "");
    out << line;
  }
  out << "learnable parameters: " << with_thousands(learnable_parameters)
      << " (+" << with_thousands(fixed_parameters) << " fixed)\n";
  std::snprintf(line, sizeof(line), "%.1f", flops / 1e9);
  out << "forward: " << line << " GFLOP at " << input_height << "x"
      << input_width << "\n";
  out << "crop offset: " << crop_offset
      << " (upscore position u lies over image position u - " << crop_offset
      << ", so score = upscore[:, :, " << crop_offset << ":" << crop_offset
      << "+H, " << crop_offset << ":" << crop_offset << "+W])\n";
  return out.str();
}

} // namespace models
} // namespace fcnlab
