#include "bindings.h"

#include <fcnlab/models/model_io.h>
#include <fcnlab/models/summary.h>

#include <pybind11/stl.h>

namespace py = pybind11;

namespace fcnlab {
namespace bindings {

void bind_models(py::module& m) {
  using models::FcnAlexNetImpl;
  py::class_<FcnAlexNetImpl, std::shared_ptr<FcnAlexNetImpl>>(m, "FcnAlexNet")
      .def(
          py::init([](int64_t num_classes,
                      std::vector<double> mean,
                      double dropout) {
            return std::make_shared<FcnAlexNetImpl>(
                models::FcnAlexNetOptions(num_classes)
                    .mean(mean)
                    .dropout(dropout));
          }),
          py::arg("num_classes") = 21,
          py::arg("mean") = std::vector<double>{116.0},
          py::arg("dropout") = 0.5,
          "FCN-Alexnet (DIGITS' fcn_alexnet.prototxt). Input N x 3 x H x W float "
          "BGR 0..255; output N x num_classes x H x W scores.")
      .def(
          "forward",
          &FcnAlexNetImpl::forward,
          py::arg("bgr"),
          py::call_guard<py::gil_scoped_release>(),
          "Class scores of a BGR batch.")
      .def(
          "__call__",
          &FcnAlexNetImpl::forward,
          py::arg("bgr"),
          py::call_guard<py::gil_scoped_release>())
      .def(
          "train",
          [](FcnAlexNetImpl& self, bool mode) { self.train(mode); },
          py::arg("mode") = true,
          "Training mode (dropout on).")
      .def(
          "eval", [](FcnAlexNetImpl& self) { self.eval(); }, "Evaluation mode.")
      .def_property_readonly("training", &FcnAlexNetImpl::is_training)
      .def(
          "parameters",
          [](FcnAlexNetImpl& self) { return self.parameters(); },
          "Parameters as tensors (autograd leaves; .grad after backward).")
      .def(
          "named_parameters",
          [](FcnAlexNetImpl& self) {
            std::vector<std::pair<std::string, torch::Tensor>> out;
            for (const auto& pair : self.named_parameters()) {
              out.emplace_back(pair.key(), pair.value());
            }
            return out;
          },
          "(name, tensor) pairs in Caffe layer order.")
      .def(
          "to",
          [](FcnAlexNetImpl& self, const std::string& device) {
            self.to(torch::Device(device));
          },
          py::arg("device"),
          "Moves the parameters to 'cpu' or 'cuda'.")
      .def_property_readonly(
          "num_classes",
          [](const FcnAlexNetImpl& self) { return self.options.num_classes(); })
      .def_property_readonly(
          "mean",
          [](const FcnAlexNetImpl& self) { return self.options.mean(); })
      .def_property_readonly(
          "crop_offset",
          &FcnAlexNetImpl::crop_offset,
          "Crop offset derived from the layer geometry (18).")
      .def(
          "num_learnable_parameters", &FcnAlexNetImpl::num_learnable_parameters)
      .def(
          "state_dict",
          [](FcnAlexNetImpl& self) {
            py::dict state;
            for (const auto& pair : self.named_parameters()) {
              state[py::str(pair.key())] = pair.value().detach();
            }
            return state;
          },
          "Parameters by name (conv1.weight, ..., upscore.weight) as tensors.")
      .def(
          "load_state_dict",
          [](FcnAlexNetImpl& self,
             const std::map<std::string, torch::Tensor>& state) {
            torch::NoGradGuard no_grad;
            auto parameters = self.named_parameters();
            TORCH_CHECK_VALUE(
                state.size() == parameters.size(),
                "state_dict has ",
                state.size(),
                " entries, FCN-Alexnet has ",
                parameters.size());
            for (auto& pair : parameters) {
              const auto it = state.find(pair.key());
              TORCH_CHECK_VALUE(
                  it != state.end(), "state_dict lacks ", pair.key());
              TORCH_CHECK_VALUE(
                  it->second.sizes() == pair.value().sizes(),
                  pair.key(),
                  " has shape ",
                  it->second.sizes(),
                  ", expected ",
                  pair.value().sizes());
              pair.value().copy_(it->second);
            }
          },
          py::arg("state_dict"),
          "Copies tensors by parameter name, with shape checks.")
      .def("__repr__", [](const FcnAlexNetImpl& self) {
        return "FcnAlexNet(num_classes=" +
            std::to_string(self.options.num_classes()) + ")";
      });

  m.def(
      "save_model",
      [](std::shared_ptr<FcnAlexNetImpl> model,
         const std::string& path,
         const std::vector<std::string>& class_names) {
        models::save_model(models::FcnAlexNet(model), path, class_names);
      },
      py::arg("model"),
      py::arg("path"),
      py::arg("class_names") = std::vector<std::string>{},
      "Saves an fcnlab model file (weights, options, class names), atomically.");
  m.def(
      "load_model",
      [](const std::string& path) {
        auto file = models::load_model(path);
        return py::make_tuple(file.model.ptr(), file.class_names);
      },
      py::arg("path"),
      "Loads an fcnlab model file: (model, class_names).");
  m.def(
      "summary",
      [](int64_t height, int64_t width, int64_t num_classes) {
        return models::summarize(
                   models::FcnAlexNetOptions(num_classes), height, width)
            .to_string();
      },
      py::arg("height") = 500,
      py::arg("width") = 500,
      py::arg("num_classes") = 21,
      "Layer-by-layer shapes, parameters, GFLOP and the crop derivation, as text.");
}

} // namespace bindings
} // namespace fcnlab
