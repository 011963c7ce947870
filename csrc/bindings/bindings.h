#pragma once

#include <torch/csrc/utils/pybind.h>

#include <pybind11/pybind11.h>

namespace fcnlab {
namespace bindings {

// One per area; module.cpp calls them all.
void bind_models(pybind11::module& m);
void bind_caffe(pybind11::module& m);
void bind_data(pybind11::module& m);
void bind_train(pybind11::module& m);
void bind_infer(pybind11::module& m);

} // namespace bindings
} // namespace fcnlab
