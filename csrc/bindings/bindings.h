#pragma once

#include <torch/csrc/utils/pybind.h>

#include <fcnlab/data/augment.h>

#include <pybind11/pybind11.h>

namespace fcnlab {
namespace bindings {

// One per area; module.cpp calls them all.
void bind_models(pybind11::module& m);
void bind_caffe(pybind11::module& m);
void bind_data(pybind11::module& m);
void bind_train(pybind11::module& m);
void bind_infer(pybind11::module& m);

/// AugmentOptions from keywords (flip, scale=(min, max), rotation,
/// quarter_turns, crop=(height, width), hue, saturation, brightness,
/// noise); an unknown key is a ValueError.
data::AugmentOptions augment_options(const pybind11::dict& keywords);

} // namespace bindings
} // namespace fcnlab
