#include "detail/python_data_layer.h"

#include "detail/python_literal.h"

#include <c10/util/Exception.h>

namespace fcnlab {
namespace caffe {
namespace detail {

PythonDataLayer read_python_data_layer(
    const ::caffe::LayerParameter& layer,
    const std::string& where) {
  const auto& python = layer.python_param();
  const std::string code = python.module() + "." + python.layer();
  TORCH_CHECK(
      layer.bottom_size() == 0,
      where,
      ": a Python layer with bottoms (",
      code,
      ") runs Python code, which fcnlab cannot; it reads Python layers "
      "without bottoms as the data layer only");
  TORCH_CHECK(
      layer.top_size() > 0, where, ": a Python data layer without tops");
  PythonDataLayer data;
  data.note = "data layer " + layer.name() + ": Python " + code;
  if (python.param_str().empty()) {
    return data;
  }
  const PythonValue params = parse_python_literal(python.param_str(), where);
  if (params.kind != PythonValue::Kind::kDict) {
    data.note += ", param_str " + params.repr() + " set aside";
    return data;
  }
  std::string aside;
  for (size_t i = 0; i < params.keys.size(); ++i) {
    const std::string& key = params.keys[i];
    const PythonValue& value = params.items[i];
    if (key != "mean") {
      aside += (aside.empty() ? "" : ", ") + key + "=" + value.repr();
      continue;
    }
    data.mean = value.numbers();
    TORCH_CHECK(
        data.mean.size() == 1 || data.mean.size() == 3,
        where,
        ": param_str's mean is ",
        value.repr(),
        "; expected one number or three (B, G, R)");
    data.note += ", mean " + value.repr();
  }
  if (!aside.empty()) {
    data.note += "; set aside (data comes from the command line): " + aside;
  }
  return data;
}

} // namespace detail
} // namespace caffe
} // namespace fcnlab
