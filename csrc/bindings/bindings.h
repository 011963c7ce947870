#pragma once

#include <torch/csrc/utils/pybind.h>

#include <fcnlab/data/augment.h>

#include <pybind11/pybind11.h>

#include <memory>

namespace fcnlab {
namespace models {
class FcnNetImpl;
} // namespace models

namespace bindings {

// One per area; module.cpp calls them all.
void bind_models(pybind11::module& m);
void bind_caffe(pybind11::module& m);
void bind_data(pybind11::module& m);
void bind_train(pybind11::module& m);
void bind_infer(pybind11::module& m);
#ifdef FCNLAB_HAS_SERVE
void bind_serve(pybind11::module& m);
#endif

/// AugmentOptions from keywords (flip, scale=(min, max), rotation,
/// quarter_turns, crop=(height, width), hue, saturation, brightness,
/// noise); an unknown key is a ValueError.
data::AugmentOptions augment_options(const pybind11::dict& keywords);

/// The C++ network behind `model`: an fcnlab network module (the
/// torch.nn.Module of fcnlab/modules.py; ValueError when a layer of it was
/// replaced in Python) or the extension's own FcnNet; TypeError otherwise.
std::shared_ptr<models::FcnNetImpl> network_of(const pybind11::handle& model);

/// `network` as the torch.nn.Module that Python sees (the same module each
/// time while one is alive).
pybind11::object network_module(std::shared_ptr<models::FcnNetImpl> network);

} // namespace bindings
} // namespace fcnlab
