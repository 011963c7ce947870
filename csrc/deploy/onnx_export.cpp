// A network as an ONNX graph: the input contract, each Caffe layer through
// its type's to_onnx, and the output a deployment asks for.
#include <fcnlab/deploy/onnx_export.h>

#include "onnx_proto.h"

#include <fcnlab/models/summary.h>
#include <fcnlab/util/atomic_file.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

namespace fcnlab {
namespace deploy {
namespace {

using models::LayerSpec;
using models::NetSpec;
using models::layers::OnnxGraph;
using models::layers::OnnxLayer;
using models::layers::PlaneSize;

// What jetson-inference's segNet feeds: planar RGB as (value / 255 -
// mean) / std with ImageNet's statistics.
constexpr double kImagenetMean[3] = {0.485, 0.456, 0.406};
constexpr double kImagenetStd[3] = {0.229, 0.224, 0.225};

std::string join(const std::vector<double>& values) {
  std::ostringstream out;
  for (size_t i = 0; i < values.size(); ++i) {
    out << (i ? ", " : "") << values[i];
  }
  return out.str();
}

bool reads_whole_planes(const NetSpec& spec) {
  for (const auto& layer : spec.layers) {
    if (models::layers::layer_def(layer.type).reads_whole_plane) {
      return true;
    }
  }
  return false;
}

// segNet's output: the scores entering the first Deconvolution.
size_t first_deconvolution(const NetSpec& spec) {
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    if (spec.layers[i].type == models::LayerType::kDeconvolution) {
      return i;
    }
  }
  TORCH_CHECK_VALUE(
      false,
      spec.name,
      ": --segnet ends at the coarse scores that enter the first "
      "Deconvolution, and this network has none");
}

// The layers among the first `end` that `blob` depends on.
std::vector<bool> layers_needed(
    const NetSpec& spec,
    size_t end,
    const std::string& blob) {
  std::vector<bool> needed(spec.layers.size(), false);
  std::set<std::string> wanted{blob};
  for (size_t i = end; i-- > 0;) {
    const LayerSpec& layer = spec.layers[i];
    if (wanted.count(layer.tops[0])) {
      needed[i] = true;
      wanted.insert(layer.bottoms.begin(), layer.bottoms.end());
    }
  }
  return needed;
}

// The network's input from what the runtime feeds: BGR 0-255 less the
// mean, or for segNet ImageNet-normalized RGB turned back into it by one
// 1x1 convolution (channel order, scale and both means at once).
std::string centred_input(
    OnnxGraph& graph,
    const NetSpec& spec,
    const std::string& input,
    bool segnet) {
  if (!segnet && spec.mean.empty()) {
    return input;
  }
  const std::string centred = graph.fresh(spec.input + "_centred");
  at::Tensor mean = spec.mean.empty()
      ? at::zeros({3}, at::kDouble)
      : at::tensor(spec.mean, at::kDouble).expand({3}).contiguous();
  if (!segnet) {
    const auto values =
        spec.mean.size() == 1 ? mean.slice(0, 0, 1) : mean.view({1, 3, 1, 1});
    return graph.add(
        "Sub", "mean", {input, graph.constant("mean/values", values)}, centred);
  }
  at::Tensor weight = at::zeros({3, 3, 1, 1}, at::kDouble);
  at::Tensor bias = at::zeros({3}, at::kDouble);
  for (int64_t bgr = 0; bgr < 3; ++bgr) {
    const int64_t rgb = 2 - bgr;
    weight[bgr][rgb][0][0] = 255 * kImagenetStd[rgb];
    bias[bgr] = 255 * kImagenetMean[rgb] - mean[bgr].item<double>();
  }
  return graph.add(
      "Conv",
      "from_imagenet_rgb",
      {input,
       graph.constant("from_imagenet_rgb/weight", weight),
       graph.constant("from_imagenet_rgb/bias", bias)},
      centred,
      {{"kernel_shape", std::vector<int64_t>{1, 1}}});
}

std::string input_contract(
    const NetSpec& spec,
    const std::string& name,
    bool segnet) {
  std::ostringstream out;
  if (segnet) {
    out << name << ": 1 x 3 x H x W float, planar RGB as (value / 255 - ("
        << kImagenetMean[0] << ", " << kImagenetMean[1] << ", "
        << kImagenetMean[2] << ")) / (" << kImagenetStd[0] << ", "
        << kImagenetStd[1] << ", " << kImagenetStd[2]
        << "); turned into the network's input inside the model";
    return out.str();
  }
  out << name << ": N x 3 x H x W float, BGR channel order, values 0-255";
  if (!spec.mean.empty()) {
    out << "; the mean (" << join(spec.mean)
        << ") is subtracted inside the model";
  }
  return out.str();
}

struct Sizes {
  bool fixed = false;
  int64_t height = 0;
  int64_t width = 0;
};

Sizes export_sizes(const NetSpec& spec, const OnnxExportOptions& options) {
  TORCH_CHECK_VALUE(
      options.opset >= 11 && options.opset <= 17,
      "ONNX opset ",
      options.opset,
      " is not written (11 to 17)");
  TORCH_CHECK_VALUE(
      (options.height == 0) == (options.width == 0) && options.height >= 0 &&
          options.width >= 0,
      "ONNX input size ",
      options.height,
      "x",
      options.width,
      ": give both, each at least 1, or neither");
  Sizes sizes{options.height > 0, options.height, options.width};
  TORCH_CHECK_VALUE(
      sizes.fixed || !options.segnet,
      "--segnet needs a fixed input size (segNet builds its engine for one)");
  if (!sizes.fixed && reads_whole_planes(spec)) {
    // Its InnerProduct weights fit one size only.
    sizes = {true, spec.input_height, spec.input_width};
  }
  return sizes;
}

} // namespace

OnnxOutput parse_onnx_output(const std::string& name) {
  if (name == "scores") {
    return OnnxOutput::kScores;
  }
  if (name == "probabilities") {
    return OnnxOutput::kProbabilities;
  }
  TORCH_CHECK_VALUE(
      name == "classes",
      "unknown ONNX output '",
      name,
      "' (scores, probabilities, classes)");
  return OnnxOutput::kClasses;
}

std::string onnx_model(
    const models::FcnNet& model,
    const OnnxExportOptions& options,
    OnnxExport* described) {
  const NetSpec& spec = model->spec();
  const Sizes sizes = export_sizes(spec, options);
  TORCH_CHECK_VALUE(
      !(options.segnet && options.output == OnnxOutput::kClasses),
      "--segnet writes scores (segNet takes the classes itself)");
  // The summary checks a fixed size against every layer.
  std::map<std::string, PlaneSize> blob_sizes;
  std::vector<std::vector<PlaneSize>> in_sizes(spec.layers.size());
  if (sizes.fixed) {
    const auto summary = models::summarize(spec, sizes.height, sizes.width);
    blob_sizes[spec.input] = {sizes.height, sizes.width};
    for (size_t i = 0; i < spec.layers.size(); ++i) {
      for (const auto& bottom : spec.layers[i].bottoms) {
        in_sizes[i].push_back(blob_sizes.at(bottom));
      }
      const auto& shape = summary.layers[i].output_shape;
      blob_sizes[spec.layers[i].tops[0]] = {shape[1], shape[2]};
    }
  }

  const size_t end =
      options.segnet ? first_deconvolution(spec) : spec.layers.size();
  const std::string scores_blob =
      options.segnet ? spec.layers[end].bottoms[0] : spec.output;
  const auto needed = layers_needed(spec, end, scores_blob);

  OnnxGraph graph(options.opset);
  const std::string input =
      graph.fresh(options.segnet ? "input_0" : spec.input);
  std::map<std::string, std::string> values{
      {spec.input, centred_input(graph, spec, input, options.segnet)}};
  const auto children = model->named_children();
  for (size_t i = 0; i < end; ++i) {
    if (!needed[i]) {
      continue;
    }
    const LayerSpec& layer = spec.layers[i];
    std::vector<std::string> in;
    for (const auto& bottom : layer.bottoms) {
      in.push_back(values.at(bottom));
    }
    const auto* child = children.find(layer.name);
    const auto crop = model->crop_offsets().find(layer.name);
    OnnxLayer step{
        spec,
        layer,
        child ? child->get() : nullptr,
        std::move(in),
        in_sizes[i],
        crop == model->crop_offsets().end() ? std::pair<int64_t, int64_t>{}
                                            : crop->second,
        graph,
        // An in-place layer's result is named after the layer.
        graph.fresh(values.count(layer.tops[0]) ? layer.name : layer.tops[0])};
    values[layer.tops[0]] = models::layers::layer_def(layer.type).to_onnx(step);
  }

  const std::string scores = values.at(scores_blob);
  const int64_t classes = models::num_classes(spec);
  std::string result = scores;
  std::string name = options.segnet ? "output_0" : scores_blob;
  std::string meaning = "class scores";
  switch (options.output) {
    case OnnxOutput::kScores:
      break;
    case OnnxOutput::kProbabilities:
      name = options.segnet ? name : "probabilities";
      meaning = "class probabilities (softmax of the scores)";
      result = models::layers::add_softmax(
          graph, "probabilities", scores, 1, graph.fresh(name));
      break;
    case OnnxOutput::kClasses:
      name = "classes";
      meaning = "the class of each pixel (ArgMax of the scores), int64";
      result = graph.add(
          "ArgMax",
          "classes",
          {scores},
          graph.fresh(name),
          {{"axis", int64_t{1}}, {"keepdims", int64_t{0}}});
      break;
  }
  TORCH_CHECK_VALUE(
      result != input, spec.name, ": no layer computes its output");
  // The scores keep their blob's name unless another value took it.
  if (result != name && !graph.taken(name)) {
    graph.rename(result, name);
  } else {
    name = result;
  }

  detail::OnnxModelInfo info;
  info.graph_name = spec.name;
  const detail::OnnxDim batch =
      sizes.fixed ? detail::OnnxDim{1, ""} : detail::OnnxDim{-1, "batch"};
  const detail::OnnxDim height = sizes.fixed ? detail::OnnxDim{sizes.height, ""}
                                             : detail::OnnxDim{-1, "height"};
  const detail::OnnxDim width = sizes.fixed ? detail::OnnxDim{sizes.width, ""}
                                            : detail::OnnxDim{-1, "width"};
  info.input = {input, false, {batch, {3, ""}, height, width}};
  info.output = {name, options.output == OnnxOutput::kClasses, {batch}};
  if (options.output != OnnxOutput::kClasses) {
    info.output.dims.push_back({classes, ""});
  }
  info.output.dims.resize(info.output.dims.size() + 2);

  OnnxExport out;
  out.input = input_contract(spec, input, options.segnet);
  out.output = name + ": " + meaning + " of " + std::to_string(classes) +
      " classes" + (options.segnet ? ", at the coarse resolution" : "");
  out.height = sizes.fixed ? sizes.height : 0;
  out.width = sizes.fixed ? sizes.width : 0;
  info.metadata = {
      {"fcnlab.network", spec.name},
      {"fcnlab.input", out.input},
      {"fcnlab.output", out.output},
      {"fcnlab.classes", std::to_string(classes)},
      {"fcnlab.mean", join(spec.mean)}};
  std::string bytes = detail::serialize_onnx(graph, info);
  if (described) {
    *described = std::move(out);
  }
  return bytes;
}

OnnxExport export_onnx(
    const models::FcnNet& model,
    const std::string& path,
    const OnnxExportOptions& options) {
  TORCH_CHECK_VALUE(
      std::filesystem::path(path).extension() == ".onnx",
      path,
      ": an ONNX export is written to a file ending in .onnx");
  OnnxExport described;
  const std::string bytes = onnx_model(model, options, &described);
  util::write_file_atomically(path, bytes);
  described.path = path;
  return described;
}

} // namespace deploy
} // namespace fcnlab
