#include "bindings.h"

#include <fcnlab/caffe/network.h>
#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/io/model_file.h>
#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/models/summary.h>
#include <fcnlab/train/solver.h>

#include <pybind11/stl.h>

#include <torch/csrc/autograd/python_variable.h>

#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;

namespace fcnlab {
namespace bindings {

using models::FcnAlexNetImpl;
using models::FcnNetImpl;

namespace {

// torch.optim groups: parameters with the same multipliers share one, in
// the order the multipliers first appear; lr_mult 0 is left out, as the
// solver leaves it.
py::list param_groups(
    std::shared_ptr<FcnNetImpl> model,
    double base_lr,
    double weight_decay) {
  py::list groups;
  const auto trainable = train::trainable_parameters(models::FcnNet(model));
  for (const auto& group : train::group_by_multipliers(trainable)) {
    py::list tensors;
    for (const auto& parameter : group.parameters) {
      tensors.append(parameter.tensor);
    }
    py::dict entry;
    entry["params"] = tensors;
    entry["lr"] = base_lr * group.rule.lr_mult;
    entry["weight_decay"] = weight_decay * group.rule.decay_mult;
    entry["lr_mult"] = group.rule.lr_mult;
    entry["decay_mult"] = group.rule.decay_mult;
    groups.append(entry);
  }
  return groups;
}

// A Python layer call (index, [bottoms]) -> top for FcnNetImpl::run_layers.
FcnNetImpl::LayerCall python_layer_call(const py::function& call) {
  return [call](size_t index, const std::vector<torch::Tensor>& bottoms) {
    py::list in;
    for (const auto& bottom : bottoms) {
      in.append(bottom);
    }
    const py::object top = call(index, in);
    if (!THPVariable_Check(top.ptr())) {
      throw py::type_error(
          "a layer call returned " +
          std::string(py::str(py::type::of(top).attr("__name__"))) +
          ", not a tensor");
    }
    return top.cast<torch::Tensor>();
  };
}

} // namespace

std::shared_ptr<FcnNetImpl> network_of(const py::handle& model) {
  if (py::isinstance<FcnNetImpl>(model)) {
    return model.cast<std::shared_ptr<FcnNetImpl>>();
  }
  if (py::hasattr(model, "_cpp_network")) {
    const py::object inner = model.attr("_cpp_network")();
    if (py::isinstance<FcnNetImpl>(inner)) {
      return inner.cast<std::shared_ptr<FcnNetImpl>>();
    }
  }
  throw py::type_error(
      "expected an fcnlab network (fcnlab.FcnNet), got " +
      std::string(py::str(py::type::of(model).attr("__name__"))));
}

py::object network_module(std::shared_ptr<FcnNetImpl> network) {
  return py::module_::import("fcnlab.modules")
      .attr("network_module")(py::cast(std::move(network)));
}

void bind_models(py::module& m) {
  py::class_<FcnNetImpl, std::shared_ptr<FcnNetImpl>>(
      m,
      "FcnNet",
      "Any fully convolutional network described as Caffe layers. Input N x 3 "
      "x H x W float BGR 0..255; output N x num_classes x H x W scores.")
      .def(
          py::init([](const std::string& network,
                      int64_t num_classes,
                      const std::string& loss_layer) {
            return caffe::build_network(
                       network,
                       models::FcnAlexNetOptions(num_classes),
                       {loss_layer})
                .ptr();
          }),
          py::arg("network") = "fcn8s",
          py::arg("num_classes") = 21,
          py::arg("loss_layer") = "",
          "A built-in network (fcn_alexnet, fcn32s, fcn16s, fcn8s, "
          "fcn8s_atonce) with num_classes classes, or a Caffe .prototxt file "
          "(loss_layer picks the loss of a file with several). fcn_alexnet "
          "is an FCN-Alexnet underneath, saved and loaded as one.")
      .def_static(
          "from_prototxt",
          [](const std::string& text) {
            return std::make_shared<FcnNetImpl>(
                caffe::parse_prototxt(text, "prototxt text"));
          },
          py::arg("text"),
          "A network from prototxt text.")
      .def(
          "forward",
          &FcnNetImpl::forward,
          py::arg("bgr"),
          py::call_guard<py::gil_scoped_release>(),
          "Class scores of a BGR batch.")
      .def(
          "__call__",
          &FcnNetImpl::forward,
          py::arg("bgr"),
          py::call_guard<py::gil_scoped_release>())
      .def(
          "trace",
          &FcnNetImpl::trace,
          py::arg("bgr"),
          py::call_guard<py::gil_scoped_release>(),
          "(layer name, output) of every layer, through the plain layers.")
      .def(
          "run_layers",
          [](FcnNetImpl& self, const torch::Tensor& bgr, py::function call) {
            return self.run_layers(bgr, python_layer_call(call));
          },
          py::arg("bgr"),
          py::arg("call"),
          "Runs the network with call(index, bottoms) computing each "
          "layer's output (the input checks, mean and blob wiring are "
          "forward's).")
      .def(
          "forward_layer",
          &FcnNetImpl::forward_layer,
          py::arg("index"),
          py::arg("bottoms"),
          "Layer `index` alone, through its plain module, on its bottoms.")
      .def(
          "clone",
          [](const FcnNetImpl& self) {
            return std::dynamic_pointer_cast<FcnNetImpl>(self.clone());
          },
          "A deep copy (same class, weights, frozen parameters and mode).")
      .def_property_readonly(
          "layers",
          [](const FcnNetImpl& self) {
            py::list out;
            for (const auto& layer : self.spec().layers) {
              out.append(py::make_tuple(
                  layer.name,
                  models::caffe_type_name(layer.type),
                  layer.bottoms,
                  layer.tops));
            }
            return out;
          },
          "(name, Caffe type, bottoms, tops) of every layer, in order.")
      .def(
          "train",
          [](FcnNetImpl& self, bool mode) { self.train(mode); },
          py::arg("mode") = true,
          "Training mode (dropout on).")
      .def(
          "eval", [](FcnNetImpl& self) { self.eval(); }, "Evaluation mode.")
      .def_property_readonly(
          "training", [](const FcnNetImpl& self) { return self.is_training(); })
      .def(
          "parameters",
          [](FcnNetImpl& self) { return self.parameters(); },
          "Parameters as tensors (autograd leaves; .grad after backward).")
      .def(
          "named_parameters",
          [](FcnNetImpl& self) {
            std::vector<std::pair<std::string, torch::Tensor>> out;
            for (const auto& pair : self.named_parameters()) {
              out.emplace_back(pair.key(), pair.value());
            }
            return out;
          },
          "(name, tensor) pairs in Caffe layer order.")
      .def(
          "to",
          [](FcnNetImpl& self, const std::string& device) {
            self.to(torch::Device(device));
          },
          py::arg("device"),
          "Moves the parameters to 'cpu' or 'cuda'.")
      .def_property_readonly("num_classes", &FcnNetImpl::num_classes)
      .def_property_readonly(
          "name", [](const FcnNetImpl& self) { return self.spec().name; })
      .def_property_readonly(
          "mean", [](const FcnNetImpl& self) { return self.spec().mean; })
      .def_property_readonly(
          "crop_offsets",
          &FcnNetImpl::crop_offsets,
          "{crop layer: (height offset, width offset)}, derived from the "
          "layer geometry.")
      .def_property_readonly(
          "prototxt",
          [](const FcnNetImpl& self) {
            return caffe::net_prototxt(self.spec());
          },
          "The network as a Caffe prototxt.")
      .def("num_learnable_parameters", &FcnNetImpl::num_learnable_parameters)
      .def(
          "param_groups",
          &param_groups,
          py::arg("base_lr"),
          py::arg("weight_decay") = 0.0,
          "Parameter groups for a torch.optim optimizer, with Caffe's "
          "multipliers applied: one group per (lr_mult, decay_mult) pair, in "
          "the order they first appear, lr = base_lr * lr_mult, weight_decay = weight_decay "
          "* decay_mult, and the multipliers kept as 'lr_mult' and "
          "'decay_mult' for schedulers. Parameters with lr_mult 0 (fixed "
          "upsampling, BatchNorm's sums) are left out, as fcnlab's solver "
          "leaves them.")
      .def(
          "state_dict",
          [](FcnNetImpl& self) {
            py::dict state;
            for (const auto& pair : self.named_parameters()) {
              state[py::str(pair.key())] = pair.value().detach();
            }
            return state;
          },
          "Parameters by name (conv1.weight, ..., upscore.weight) as tensors.")
      .def(
          "load_state_dict",
          &FcnNetImpl::load_parameters,
          py::arg("state_dict"),
          "Copies tensors by parameter name, with shape checks.")
      .def("__repr__", [](const FcnNetImpl& self) {
        return "FcnNet(name=" + self.spec().name +
            ", num_classes=" + std::to_string(self.num_classes()) + ")";
      });

  py::class_<FcnAlexNetImpl, FcnNetImpl, std::shared_ptr<FcnAlexNetImpl>>(
      m, "FcnAlexNet")
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
      .def_property_readonly(
          "crop_offset",
          &FcnAlexNetImpl::crop_offset,
          "Crop offset derived from the layer geometry (18).")
      .def("__repr__", [](const FcnAlexNetImpl& self) {
        return "FcnAlexNet(num_classes=" + std::to_string(self.num_classes()) +
            ")";
      });

  m.def(
      "builtin_networks",
      &models::builtin_net_names,
      "Names of the built-in networks.");
  m.def(
      "network_prototxt",
      [](const std::string& network,
         int64_t num_classes,
         const std::string& loss_layer) {
        return caffe::net_prototxt(
            caffe::network_spec(network, num_classes, {loss_layer}));
      },
      py::arg("network"),
      py::arg("num_classes") = 21,
      py::arg("loss_layer") = "",
      "A built-in network (or a prototxt file read back) as prototxt text.");
  m.def(
      "save_model",
      [](const py::object& model,
         const std::string& path,
         const std::vector<std::string>& class_names) {
        io::save_model(models::FcnNet(network_of(model)), path, class_names);
      },
      py::arg("model"),
      py::arg("path"),
      py::arg("class_names") = std::vector<std::string>{},
      "Saves an fcnlab model file (weights, network description, class "
      "names), atomically.");
  m.def(
      "load_model",
      [](const std::string& path) {
        auto file = io::load_model(path);
        return py::make_tuple(
            network_module(file.model.ptr()), file.class_names);
      },
      py::arg("path"),
      "Loads an fcnlab model file: (model, class_names).");
  m.def(
      "upgrade_legacy_file",
      &io::upgrade_legacy_file,
      py::arg("path"),
      "Converts a model file or snapshot of fcnlab 0.1 (a zip archive) to "
      "today's format in place; returns 'model' or 'snapshot'. Only for "
      "files you wrote: LibTorch's TorchScript importer trusts them.");
  m.def(
      "summary",
      [](std::optional<int64_t> height,
         std::optional<int64_t> width,
         int64_t num_classes,
         const std::string& network,
         const std::string& loss_layer) {
        const auto spec =
            caffe::network_spec(network, num_classes, {loss_layer});
        const auto [declared_height, declared_width] =
            models::default_input_size(spec);
        return models::summarize(
                   spec,
                   height.value_or(declared_height),
                   width.value_or(declared_width))
            .to_string();
      },
      py::arg("height") = py::none(),
      py::arg("width") = py::none(),
      py::arg("num_classes") = 21,
      py::arg("network") = "fcn_alexnet",
      py::arg("loss_layer") = "",
      "Layer-by-layer shapes, parameters, GFLOP and the crop derivations, as "
      "text, at height x width (default: the size the network declares, "
      "else 500x500).");
}

} // namespace bindings
} // namespace fcnlab
