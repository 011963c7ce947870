#include "bindings.h"

#include <fcnlab/data/palette.h>
#include <fcnlab/infer/segment.h>
#include <fcnlab/util/autocast.h>
#include <fcnlab/util/device.h>

#include <pybind11/stl.h>

namespace py = pybind11;

namespace fcnlab {
namespace bindings {

void bind_infer(py::module& m) {
  m.def(
      "segment",
      [](const py::object& model,
         const torch::Tensor& image,
         const std::string& amp) {
        models::FcnNet holder(network_of(model));
        const auto precision = parse_precision(amp);
        py::gil_scoped_release release;
        const Autocast autocast(holder->device().type(), precision);
        auto result = infer::segment(holder, image);
        return std::make_pair(result.classes, result.probabilities);
      },
      py::arg("model"),
      py::arg("image"),
      py::arg("amp") = "fp32",
      "Segments an H x W x 3 uint8 BGR image at native size on the model's "
      "device, in amp precision (fp32, bf16 or fp16): (classes H x W uint8, "
      "probabilities C x H x W float32, on the CPU).");
  m.def(
      "cuda_available",
      &cuda_available,
      "Whether this build's LibTorch has CUDA and a GPU is visible.");
  m.def(
      "overlay",
      [](const torch::Tensor& image,
         const torch::Tensor& classes,
         double opacity) {
        return infer::overlay(image, classes, data::voc_palette(), opacity);
      },
      py::arg("image"),
      py::arg("classes"),
      py::arg("opacity") = 0.5,
      "The BGR image blended with VOC class colors where class > 0.");
}

} // namespace bindings
} // namespace fcnlab
