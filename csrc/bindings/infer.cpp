#include "bindings.h"

#include <fcnlab/data/palette.h>
#include <fcnlab/infer/segment.h>

#include <pybind11/stl.h>

namespace py = pybind11;

namespace fcnlab {
namespace bindings {

void bind_infer(py::module& m) {
  m.def(
      "segment",
      [](std::shared_ptr<models::FcnNetImpl> model,
         const torch::Tensor& image) {
        models::FcnNet holder(model);
        py::gil_scoped_release release;
        auto result = infer::segment(holder, image);
        return std::make_pair(result.classes, result.probabilities);
      },
      py::arg("model"),
      py::arg("image"),
      "Segments an H x W x 3 uint8 BGR image at native size: (classes H x W uint8, "
      "probabilities C x H x W).");
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
