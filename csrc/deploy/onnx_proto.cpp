// fcnlab's ONNX graph written through ONNX's own generated classes, and
// checked by ONNX before anything reaches a file.
#include "onnx_proto.h"

#include <onnx/checker.h>
#include <onnx/onnx-ml.pb.h>
#include <onnx/shape_inference/implementation.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <exception>
#include <type_traits>
#include <variant>
#include <vector>

namespace fcnlab {
namespace deploy {
namespace detail {
namespace {

// The newest IR version each opset may declare (onnx/docs/Versioning.md).
int64_t ir_version(int64_t opset) {
  if (opset <= 11) {
    return 6;
  }
  if (opset <= 13) {
    return 7;
  }
  return 8;
}

void set_attribute(
    onnx::AttributeProto* out,
    const std::string& name,
    const models::layers::OnnxAttribute& value) {
  out->set_name(name);
  std::visit(
      [out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          out->set_type(onnx::AttributeProto::INT);
          out->set_i(v);
        } else if constexpr (std::is_same_v<T, float>) {
          out->set_type(onnx::AttributeProto::FLOAT);
          out->set_f(v);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          out->set_type(onnx::AttributeProto::INTS);
          for (const int64_t i : v) {
            out->add_ints(i);
          }
        } else if constexpr (std::is_same_v<T, std::vector<float>>) {
          out->set_type(onnx::AttributeProto::FLOATS);
          for (const float f : v) {
            out->add_floats(f);
          }
        } else {
          out->set_type(onnx::AttributeProto::STRING);
          out->set_s(v);
        }
      },
      value);
}

void set_initializer(
    onnx::TensorProto* out,
    const std::string& name,
    const at::Tensor& values) {
  out->set_name(name);
  out->set_data_type(
      values.scalar_type() == at::kLong ? onnx::TensorProto::INT64
                                        : onnx::TensorProto::FLOAT);
  for (const int64_t dim : values.sizes()) {
    out->add_dims(dim);
  }
  // raw_data is little-endian, as x86-64 and ARM store it.
  out->set_raw_data(values.data_ptr(), static_cast<size_t>(values.nbytes()));
}

void set_value_info(onnx::ValueInfoProto* out, const OnnxTensorInfo& info) {
  out->set_name(info.name);
  auto* tensor = out->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(
      info.int64 ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT);
  // ONNX 1.12's checker wants a shape even when no size is known.
  auto* shape = tensor->mutable_shape();
  for (const OnnxDim& dim : info.dims) {
    auto* out_dim = shape->add_dim();
    if (dim.value >= 0) {
      out_dim->set_dim_value(dim.value);
    } else if (!dim.name.empty()) {
      out_dim->set_dim_param(dim.name);
    }
  }
}

} // namespace

std::string serialize_onnx(
    const models::layers::OnnxGraph& graph,
    const OnnxModelInfo& info) {
  onnx::ModelProto model;
  model.set_ir_version(ir_version(graph.opset()));
  model.set_producer_name("fcnlab");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(graph.opset());
  for (const auto& [key, value] : info.metadata) {
    auto* entry = model.add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  }
  auto* g = model.mutable_graph();
  g->set_name(info.graph_name);
  set_value_info(g->add_input(), info.input);
  set_value_info(g->add_output(), info.output);
  for (const auto& [name, values] : graph.constants()) {
    set_initializer(g->add_initializer(), name, values);
  }
  for (const auto& node : graph.nodes()) {
    auto* out = g->add_node();
    out->set_op_type(node.op_type);
    out->set_name(node.name);
    for (const auto& input : node.inputs) {
      out->add_input(input);
    }
    for (const auto& output : node.outputs) {
      out->add_output(output);
    }
    for (const auto& [name, value] : node.attributes) {
      set_attribute(out->add_attribute(), name, value);
    }
  }
  try {
    onnx::checker::check_model(model);
    // Shape inference reads int64 constants (pads, shapes, slice bounds)
    // but no float ones: the weights' bytes are set aside meanwhile rather
    // than copied, and its shapes are not stored (see the header).
    std::vector<std::string> weights(
        static_cast<size_t>(g->initializer_size()));
    auto swap_weights = [&] {
      for (int i = 0; i < g->initializer_size(); ++i) {
        auto* initializer = g->mutable_initializer(i);
        if (initializer->data_type() == onnx::TensorProto::FLOAT) {
          weights[static_cast<size_t>(i)].swap(
              *initializer->mutable_raw_data());
        }
      }
    };
    swap_weights();
    onnx::shape_inference::InferShapes(
        model,
        onnx::OpSchemaRegistry::Instance(),
        onnx::ShapeInferenceOptions(/*check_type=*/true, /*error_mode=*/1));
    g->clear_value_info();
    swap_weights();
  } catch (const std::exception& e) {
    TORCH_CHECK(
        false,
        "ONNX rejects the exported model of ",
        info.graph_name,
        ": ",
        e.what());
  }
  std::string bytes;
  TORCH_CHECK(
      model.SerializeToString(&bytes),
      "cannot serialize the ONNX model of ",
      info.graph_name);
  return bytes;
}

} // namespace detail
} // namespace deploy
} // namespace fcnlab
