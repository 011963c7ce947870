#pragma once

#include "layer_def.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace fcnlab {
namespace models {
namespace layers {

/// The value of an ONNX attribute.
using OnnxAttribute = std::variant<
    int64_t,
    float,
    std::vector<int64_t>,
    std::vector<float>,
    std::string>;

using OnnxAttributes = std::vector<std::pair<std::string, OnnxAttribute>>;

/// One ONNX node as fcnlab builds it.
struct OnnxNode {
  std::string op_type;
  std::string name;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  OnnxAttributes attributes;
};

/// An ONNX graph under construction, independent of ONNX's protobuf
/// classes (deploy/onnx_export.cpp writes it out). Every value is written
/// once, so Caffe's in-place layers get fresh names.
class OnnxGraph {
 public:
  explicit OnnxGraph(int64_t opset) : opset_(opset) {}

  int64_t opset() const {
    return opset_;
  }

  /// `base` when no value has that name yet, else base_1, base_2, ...;
  /// the name is taken.
  std::string fresh(const std::string& base);

  bool taken(const std::string& name) const {
    return taken_.count(name) > 0;
  }

  /// A constant (float, or int64 for shapes and indices), named after
  /// `base`; returns its name.
  std::string constant(const std::string& base, const at::Tensor& values);
  /// A 1-D int64 constant.
  std::string ints(const std::string& base, const std::vector<int64_t>& values);
  /// A float scalar constant.
  std::string scalar(const std::string& base, double value);

  /// Adds a node `name` computing `output` (a name taken with fresh());
  /// returns `output`.
  std::string add(
      const std::string& op_type,
      const std::string& name,
      std::vector<std::string> inputs,
      const std::string& output,
      OnnxAttributes attributes = {});

  /// Renames the value `from` (a node output) to `to`, a name not taken.
  void rename(const std::string& from, const std::string& to);

  const std::vector<OnnxNode>& nodes() const {
    return nodes_;
  }
  const std::vector<std::pair<std::string, at::Tensor>>& constants() const {
    return constants_;
  }

 private:
  int64_t opset_;
  std::set<std::string> taken_;
  std::vector<OnnxNode> nodes_;
  std::vector<std::pair<std::string, at::Tensor>> constants_;
};

/// One Caffe layer as LayerDef::to_onnx writes it into `graph`.
struct OnnxLayer {
  const NetSpec& net;
  const LayerSpec& layer;
  /// The layer's submodule (LayerDef::make_module), or null.
  const torch::nn::Module* module;
  /// The ONNX values of the bottoms, in order.
  std::vector<std::string> in;
  /// Height and width of the bottoms in a fixed-size export; empty when
  /// they are known only when the model runs.
  std::vector<PlaneSize> in_sizes;
  /// Crop: its (height, width) offset.
  std::pair<int64_t, int64_t> crop_offset{0, 0};
  OnnxGraph& graph;
  /// The name the layer's result takes (fresh).
  std::string top;

  bool fixed_size() const {
    return !in_sizes.empty();
  }
  std::string where() const {
    return net.where(layer);
  }
  /// The module's parameter `name` as float on the CPU.
  at::Tensor parameter(const std::string& name) const;
  /// Constants named layer/what: a tensor, 1-D int64 values, a float.
  std::string constant(const std::string& what, const at::Tensor& values) const;
  std::string ints(const std::string& what, const std::vector<int64_t>& values)
      const;
  std::string scalar(const std::string& what, double value) const;
  /// The layer's last node, named after it, computing `top`.
  std::string node(
      const std::string& op_type,
      std::vector<std::string> inputs,
      OnnxAttributes attributes = {}) const;
  /// A node before the last, named layer/what, computing a value of the
  /// same name.
  std::string step(
      const std::string& what,
      const std::string& op_type,
      std::vector<std::string> inputs,
      OnnxAttributes attributes = {}) const;
};

/// Adds Softmax over `axis` of a 4-D `input` as node `name` computing
/// `output`. Before opset 13 ONNX's Softmax normalizes over every axis from
/// `axis` on, so the axis is moved last and back.
std::string add_softmax(
    OnnxGraph& graph,
    const std::string& name,
    const std::string& input,
    int64_t axis,
    const std::string& output);

/// ONNX's pads of a window: begin (height, width), then end.
std::vector<int64_t> onnx_pads(int64_t pad_h, int64_t pad_w);

/// kernel_shape, strides, pads (unless `with_pads` is false) and, when
/// `with_dilations`, dilations of `window`.
OnnxAttributes window_attributes(
    const Window& window,
    bool with_dilations,
    bool with_pads = true);

} // namespace layers
} // namespace models
} // namespace fcnlab
