#pragma once

#include "../models/layers/onnx_graph.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fcnlab {
namespace deploy {
namespace detail {

/// One dimension of a graph input or output: a size, a named size the
/// runtime reads from the input, or (neither) unknown.
struct OnnxDim {
  int64_t value = -1;
  std::string name;
};

struct OnnxTensorInfo {
  std::string name;
  bool int64 = false; ///< else float
  std::vector<OnnxDim> dims;
};

struct OnnxModelInfo {
  std::string graph_name;
  OnnxTensorInfo input;
  OnnxTensorInfo output;
  std::vector<std::pair<std::string, std::string>> metadata;
};

/// `graph` as a serialized ONNX ModelProto with the IR version of its
/// opset, after ONNX's checker and strict shape inference (whose shapes are
/// not stored: its pooling formula is not Caffe's).
/// Throws c10::Error when ONNX rejects the model.
std::string serialize_onnx(
    const models::layers::OnnxGraph& graph,
    const OnnxModelInfo& info);

} // namespace detail
} // namespace deploy
} // namespace fcnlab
