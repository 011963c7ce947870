#include <fcnlab/serve/network_drawing.h>

#include <fcnlab/models/summary.h>
#include <fcnlab/util/atomic_file.h>

#include <c10/util/Exception.h>

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <map>
#include <mutex>
#include <sstream>
#include <tuple>

namespace fcnlab {
namespace serve {
namespace {

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '\n') { // Graphviz's line break inside a label
      out += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text;
  for (const int64_t size : shape) {
    text += (text.empty() ? "" : "x") + std::to_string(size);
  }
  return text;
}

std::string count_text(int64_t count) {
  if (count >= 1000000) {
    std::ostringstream text;
    text.precision(3);
    text << double(count) / 1e6 << "M";
    return text.str();
  }
  return std::to_string(count);
}

const char* fill_color(const std::string& type) {
  static const std::map<std::string, const char*> colors = {
      {"Convolution", "#cfe2f3"},
      {"Deconvolution", "#d9ead3"},
      {"Pooling", "#fff2cc"},
      {"Crop", "#f4cccc"},
      {"Eltwise", "#ead1dc"},
      {"InnerProduct", "#cfe2f3"}};
  const auto found = colors.find(type);
  return found == colors.end() ? "#eeeeee" : found->second;
}

// Graphviz keeps global state (its plugin list, error handling).
std::mutex& graphviz_mutex() {
  static std::mutex mutex;
  return mutex;
}

} // namespace

std::string network_dot(
    const models::NetSpec& spec,
    int64_t height,
    int64_t width) {
  const auto summary = models::summarize(spec, height, width);
  std::map<std::string, std::string> crop_text;
  for (const auto& crop : summary.crops) {
    crop_text[crop.layer] = "offset " + std::to_string(crop.offset_h) + ", " +
        std::to_string(crop.offset_w);
  }
  std::ostringstream dot;
  dot << "digraph " << quoted(spec.name.empty() ? "net" : spec.name) << " {\n"
      << "  rankdir=TB; node [shape=box, style=\"rounded,filled\", "
         "fontname=\"Helvetica\", fontsize=10];\n"
      << "  edge [fontname=\"Helvetica\", fontsize=8, color=\"#666666\"];\n";
  const std::string input_node = "input:" + spec.input;
  dot << "  " << quoted(input_node) << " [label="
      << quoted(
             spec.input + "\ninput 3x" + std::to_string(height) + "x" +
             std::to_string(width))
      << ", fillcolor=\"#ffffff\"];\n";
  // The node that last wrote each blob (in-place layers rewrite theirs).
  std::map<std::string, std::string> writer = {{spec.input, input_node}};
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const auto& layer = spec.layers[i];
    const auto& row = summary.layers.at(i);
    std::string label = layer.name + "\n" + row.type;
    if (!row.output_shape.empty()) {
      label += "\n" + shape_text(row.output_shape);
    }
    const int64_t parameters = row.learnable_parameters + row.fixed_parameters;
    if (parameters > 0) {
      label += "\n" + count_text(parameters) + " parameters";
      if (row.fixed_parameters > 0 && row.learnable_parameters == 0) {
        label += " (fixed)";
      }
    }
    if (crop_text.count(layer.name)) {
      label += "\n" + crop_text[layer.name];
    }
    const std::string node = "layer:" + layer.name;
    dot << "  " << quoted(node) << " [label=" << quoted(label)
        << ", fillcolor=\"" << fill_color(row.type) << "\"];\n";
    for (const auto& bottom : layer.bottoms) {
      const auto found = writer.find(bottom);
      if (found != writer.end()) {
        dot << "  " << quoted(found->second) << " -> " << quoted(node)
            << " [label=" << quoted(bottom) << "];\n";
      }
    }
    for (const auto& top : layer.tops) {
      writer[top] = node;
    }
  }
  dot << "}\n";
  return dot.str();
}

std::string render_graph(const std::string& dot, const std::string& format) {
  TORCH_CHECK(
      format == "svg" || format == "png",
      "cannot draw a network as '",
      format,
      "': use .svg or .png");
  std::lock_guard<std::mutex> lock(graphviz_mutex());
  GVC_t* context = gvContext();
  TORCH_CHECK(context, "Graphviz could not start");
  Agraph_t* graph = agmemread(dot.c_str());
  if (!graph) {
    gvFreeContext(context);
    TORCH_CHECK(false, "Graphviz could not read the network's graph");
  }
  std::string picture;
  int failed = gvLayout(context, graph, "dot");
  if (failed == 0) {
    char* data = nullptr;
    unsigned int length = 0;
    failed = gvRenderData(context, graph, format.c_str(), &data, &length);
    if (failed == 0 && data) {
      picture.assign(data, length);
    }
    gvFreeRenderData(data);
    gvFreeLayout(context, graph);
  }
  agclose(graph);
  gvFreeContext(context);
  TORCH_CHECK(
      failed == 0 && !picture.empty(),
      "Graphviz could not draw the network as ",
      format,
      " (is its ",
      format,
      " plugin installed?)");
  return picture;
}

std::pair<int64_t, int64_t> draw_network(
    const models::NetSpec& spec,
    const std::string& path,
    int64_t height,
    int64_t width) {
  if (height <= 0 || width <= 0) {
    std::tie(height, width) = models::default_input_size(spec);
  }
  const auto dot = path.rfind('.');
  const auto format = dot == std::string::npos ? "" : path.substr(dot + 1);
  util::write_file_atomically(
      path, render_graph(network_dot(spec, height, width), format));
  return {height, width};
}

} // namespace serve
} // namespace fcnlab
