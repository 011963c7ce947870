#include "bindings.h"

#include <fcnlab/data/palette.h>
#include <fcnlab/deploy/onnx_export.h>
#include <fcnlab/infer/segment.h>
#include <fcnlab/util/autocast.h>
#include <fcnlab/util/device.h>

#include <pybind11/stl.h>

namespace py = pybind11;

namespace fcnlab {
namespace bindings {

void bind_infer(py::module& m) {
  m.def(
      "export_onnx",
      [](const py::object& model,
         const std::string& path,
         int64_t height,
         int64_t width,
         int64_t opset,
         const std::string& output,
         bool segnet) {
        const models::FcnNet network(network_of(model));
        deploy::OnnxExportOptions options;
        options.height = height;
        options.width = width;
        options.opset = opset;
        options.output = deploy::parse_onnx_output(output);
        options.segnet = segnet;
        deploy::OnnxExport written;
        {
          py::gil_scoped_release release;
          written = deploy::export_onnx(network, path, options);
        }
        py::dict out;
        out["path"] = written.path;
        out["input"] = written.input;
        out["output"] = written.output;
        out["height"] = written.height;
        out["width"] = written.width;
        return out;
      },
      py::arg("model"),
      py::arg("path"),
      py::arg("height") = 0,
      py::arg("width") = 0,
      py::arg("opset") = 13,
      py::arg("output") = "scores",
      py::arg("segnet") = false,
      "Writes the model as ONNX to `path` (.onnx): any input size unless "
      "height x width is given; output 'scores', 'probabilities' or "
      "'classes'; segnet=True for jetson-inference's segNet (input_0 / "
      "output_0, needs a size). Returns a dict with the path, the input and "
      "output contracts and the fixed size (0 when dynamic).");
  m.def(
      "segment",
      [](const py::object& model,
         const torch::Tensor& image,
         const std::string& amp) {
        models::FcnNet holder(network_of(model));
        const auto precision = resolve_precision(amp, holder->device().type());
        py::gil_scoped_release release;
        const Autocast autocast(holder->device().type(), precision);
        auto result = infer::segment(holder, image);
        return std::make_pair(result.classes, result.probabilities);
      },
      py::arg("model"),
      py::arg("image"),
      py::arg("amp") = "fp32",
      "Segments an H x W x 3 uint8 BGR image at native size on the model's "
      "device, in amp precision (fp32, bf16, fp16 or auto): (classes H x W uint8, "
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
