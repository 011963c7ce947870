// Eltwise: the sum (with coefficients), product or maximum of its bottoms.
#include "layer_def.h"
#include "layer_run.h"
#include "onnx_graph.h"

#include "caffe.pb.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdint>

namespace fcnlab {
namespace models {
namespace layers {
namespace eltwise_impl {

void read(
    const ::caffe::LayerParameter& proto,
    LayerSpec& layer,
    const std::string& /*where*/) {
  const auto& p = proto.eltwise_param();
  layer.eltwise.operation = p.operation() == ::caffe::EltwiseParameter::SUM
      ? EltwiseOp::kSum
      : p.operation() == ::caffe::EltwiseParameter::PROD ? EltwiseOp::kProduct
                                                         : EltwiseOp::kMax;
  layer.eltwise.coefficients.assign(p.coeff().begin(), p.coeff().end());
}

void write(const LayerSpec& layer, ::caffe::LayerParameter* out) {
  auto* p = out->mutable_eltwise_param();
  const auto op = layer.eltwise.operation;
  p->set_operation(
      op == EltwiseOp::kSum           ? ::caffe::EltwiseParameter::SUM
          : op == EltwiseOp::kProduct ? ::caffe::EltwiseParameter::PROD
                                      : ::caffe::EltwiseParameter::MAX);
  for (const double c : layer.eltwise.coefficients) {
    p->add_coeff(static_cast<float>(c));
  }
}

int64_t out_channels(
    const NetSpec& spec,
    const LayerSpec& layer,
    const std::vector<int64_t>& in) {
  TORCH_CHECK(
      std::all_of(in.begin(), in.end(), [&](int64_t c) { return c == in[0]; }),
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
  return in[0];
}

at::Tensor forward(LayerRun& run) {
  const auto& e = run.layer.eltwise;
  const auto& in = run.in;
  auto coefficient = [&](size_t k) {
    return e.coefficients.empty() ? 1.0 : e.coefficients[k];
  };
  at::Tensor y = e.operation == EltwiseOp::kSum && coefficient(0) != 1.0
      ? in[0] * coefficient(0)
      : in[0];
  for (size_t k = 1; k < in.size(); ++k) {
    switch (e.operation) {
      case EltwiseOp::kSum:
        y = coefficient(k) == 1.0 ? y + in[k] : y + in[k] * coefficient(k);
        break;
      case EltwiseOp::kProduct:
        y = y * in[k];
        break;
      case EltwiseOp::kMax:
        y = at::maximum(y, in[k]);
        break;
    }
  }
  return y;
}

std::string to_onnx(const OnnxLayer& l) {
  const auto& e = l.layer.eltwise;
  const bool sum = e.operation == EltwiseOp::kSum;
  const char* op = sum                     ? "Add"
      : e.operation == EltwiseOp::kProduct ? "Mul"
                                           : "Max";
  auto term = [&](size_t k) {
    const double c = e.coefficients.empty() ? 1.0 : e.coefficients[k];
    if (!sum || c == 1.0) {
      return l.in[k];
    }
    const std::string index = std::to_string(k);
    return l.step(
        "coefficient" + index,
        "Mul",
        {l.in[k], l.scalar("coefficient" + index + "_value", c)});
  };
  std::string y = term(0);
  for (size_t k = 1; k < l.in.size(); ++k) {
    const std::vector<std::string> inputs{y, term(k)};
    y = k + 1 == l.in.size()
        ? l.node(op, inputs)
        : l.step("partial" + std::to_string(k), op, inputs);
  }
  return y;
}

} // namespace eltwise_impl

LayerDef eltwise_layer() {
  LayerDef def{LayerType::kEltwise, "Eltwise"};
  def.min_bottoms = 2;
  def.max_bottoms = SIZE_MAX;
  def.read = eltwise_impl::read;
  def.write = eltwise_impl::write;
  def.out_channels = eltwise_impl::out_channels;
  def.forward = eltwise_impl::forward;
  def.to_onnx = eltwise_impl::to_onnx;
  return def;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
