// The ONNX graph builder that each layer type's to_onnx writes into.
#include "onnx_graph.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/nn/module.h>

#include <algorithm>

namespace fcnlab {
namespace models {
namespace layers {

std::string OnnxGraph::fresh(const std::string& base) {
  std::string name = base;
  for (int suffix = 1; taken_.count(name); ++suffix) {
    name = base + "_" + std::to_string(suffix);
  }
  taken_.insert(name);
  return name;
}

std::string OnnxGraph::constant(
    const std::string& base,
    const at::Tensor& values) {
  const auto type = values.scalar_type() == at::kLong ? at::kLong : at::kFloat;
  const std::string name = fresh(base);
  // Shares the parameters' storage where it can: the graph is written out
  // before the model changes again.
  constants_.emplace_back(
      name, values.detach().to(at::kCPU, type).contiguous());
  return name;
}

std::string OnnxGraph::ints(
    const std::string& base,
    const std::vector<int64_t>& values) {
  return constant(base, at::tensor(values, at::kLong));
}

std::string OnnxGraph::scalar(const std::string& base, double value) {
  return constant(base, at::scalar_tensor(value, at::kFloat));
}

std::string OnnxGraph::add(
    const std::string& op_type,
    const std::string& name,
    std::vector<std::string> inputs,
    const std::string& output,
    OnnxAttributes attributes) {
  nodes_.push_back(
      {op_type, name, std::move(inputs), {output}, std::move(attributes)});
  return output;
}

void OnnxGraph::rename(const std::string& from, const std::string& to) {
  TORCH_INTERNAL_ASSERT(!taken_.count(to), "ONNX value ", to, " is taken");
  taken_.insert(to);
  for (auto& node : nodes_) {
    for (auto* names : {&node.inputs, &node.outputs}) {
      std::replace(names->begin(), names->end(), from, to);
    }
  }
}

at::Tensor OnnxLayer::parameter(const std::string& name) const {
  TORCH_INTERNAL_ASSERT(module, where(), " has no parameters");
  const auto* found = module->named_parameters(/*recurse=*/false).find(name);
  TORCH_INTERNAL_ASSERT(found, where(), " has no parameter ", name);
  return found->detach().to(at::kCPU, at::kFloat);
}

std::string OnnxLayer::constant(
    const std::string& what,
    const at::Tensor& values) const {
  return graph.constant(layer.name + "/" + what, values);
}

std::string OnnxLayer::ints(
    const std::string& what,
    const std::vector<int64_t>& values) const {
  return graph.ints(layer.name + "/" + what, values);
}

std::string OnnxLayer::scalar(const std::string& what, double value) const {
  return graph.scalar(layer.name + "/" + what, value);
}

std::string OnnxLayer::node(
    const std::string& op_type,
    std::vector<std::string> inputs,
    OnnxAttributes attributes) const {
  return graph.add(
      op_type, layer.name, std::move(inputs), top, std::move(attributes));
}

std::string OnnxLayer::step(
    const std::string& what,
    const std::string& op_type,
    std::vector<std::string> inputs,
    OnnxAttributes attributes) const {
  const std::string name = graph.fresh(layer.name + "/" + what);
  return graph.add(
      op_type, name, std::move(inputs), name, std::move(attributes));
}

std::string add_softmax(
    OnnxGraph& graph,
    const std::string& name,
    const std::string& input,
    int64_t axis,
    const std::string& output) {
  constexpr int64_t kLast = 3;
  if (graph.opset() >= 13 || axis == kLast) {
    return graph.add("Softmax", name, {input}, output, {{"axis", axis}});
  }
  std::vector<int64_t> to_last;
  for (int64_t i = 0; i <= kLast; ++i) {
    if (i != axis) {
      to_last.push_back(i);
    }
  }
  to_last.push_back(axis);
  std::vector<int64_t> back(to_last.size());
  for (size_t i = 0; i < to_last.size(); ++i) {
    back[static_cast<size_t>(to_last[i])] = static_cast<int64_t>(i);
  }
  const std::string moved = graph.fresh(name + "/to_last");
  graph.add("Transpose", moved, {input}, moved, {{"perm", to_last}});
  const std::string normalized = graph.fresh(name + "/softmax");
  graph.add("Softmax", normalized, {moved}, normalized, {{"axis", kLast}});
  return graph.add("Transpose", name, {normalized}, output, {{"perm", back}});
}

std::vector<int64_t> onnx_pads(int64_t pad_h, int64_t pad_w) {
  return {pad_h, pad_w, pad_h, pad_w};
}

OnnxAttributes window_attributes(
    const Window& w,
    bool with_dilations,
    bool with_pads) {
  OnnxAttributes attributes{
      {"kernel_shape", std::vector<int64_t>{w.kernel_h, w.kernel_w}},
      {"strides", std::vector<int64_t>{w.stride_h, w.stride_w}}};
  if (with_pads) {
    attributes.emplace_back("pads", onnx_pads(w.pad_h, w.pad_w));
  }
  if (with_dilations) {
    attributes.emplace_back(
        "dilations", std::vector<int64_t>{w.dilation_h, w.dilation_w});
  }
  return attributes;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
