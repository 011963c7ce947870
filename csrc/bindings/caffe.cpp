#include "bindings.h"

#include <fcnlab/caffe/convolutionalize.h>

#include <fcnlab/caffe/caffemodel.h>
#include <fcnlab/caffe/exporter.h>
#include <fcnlab/caffe/importer.h>

#include <pybind11/stl.h>

namespace py = pybind11;

namespace fcnlab {
namespace bindings {
namespace {

py::dict report_dict(const caffe::ImportReport& report) {
  auto entries = [](const std::vector<caffe::ImportReport::Entry>& list) {
    py::list out;
    for (const auto& entry : list) {
      out.append(py::make_tuple(entry.layer, entry.detail));
    }
    return out;
  };
  py::dict out;
  out["copied"] = entries(report.copied);
  out["reshaped"] = entries(report.reshaped);
  out["dropped"] = entries(report.dropped);
  out["kept_initialised"] = entries(report.kept_initialised);
  out["text"] = report.to_string();
  return out;
}

torch::Tensor blob_tensor(const caffe::Blob& blob) {
  return torch::tensor(blob.data).view(blob.shape);
}

caffe::Blob tensor_blob(const torch::Tensor& tensor) {
  const auto values =
      tensor.detach().to(torch::kCPU, torch::kFloat).contiguous();
  caffe::Blob blob;
  blob.shape.assign(values.sizes().begin(), values.sizes().end());
  blob.data.assign(
      values.data_ptr<float>(), values.data_ptr<float>() + values.numel());
  return blob;
}

} // namespace

void bind_caffe(py::module& m) {
  m.def(
      "read_caffemodel",
      [](const std::string& path) {
        const auto net = caffe::read_caffemodel(path);
        py::list layers;
        for (const auto& layer : net.layers) {
          py::list blobs;
          for (const auto& blob : layer.blobs) {
            blobs.append(blob_tensor(blob));
          }
          py::dict entry;
          entry["name"] = layer.name;
          entry["type"] = layer.type;
          entry["bottoms"] = layer.bottoms;
          entry["tops"] = layer.tops;
          entry["blobs"] = blobs;
          layers.append(entry);
        }
        py::dict out;
        out["name"] = net.name;
        out["legacy_layers"] = net.legacy_layers;
        out["layers"] = layers;
        return out;
      },
      py::arg("path"),
      "Reads a V1 or V2 .caffemodel: {'name', 'legacy_layers', 'layers': [{'name', "
      "'type', 'bottoms', 'tops', 'blobs': [tensor]}]}.");
  m.def(
      "write_caffemodel",
      [](const std::string& path,
         const std::string& name,
         const py::list& layers) {
        caffe::Net net;
        net.name = name;
        for (const auto& item : layers) {
          const auto entry = item.cast<py::dict>();
          caffe::Layer layer;
          layer.name = entry["name"].cast<std::string>();
          layer.type = entry["type"].cast<std::string>();
          if (entry.contains("bottoms")) {
            layer.bottoms = entry["bottoms"].cast<std::vector<std::string>>();
          }
          if (entry.contains("tops")) {
            layer.tops = entry["tops"].cast<std::vector<std::string>>();
          }
          if (entry.contains("blobs")) {
            for (const auto& blob :
                 entry["blobs"].cast<std::vector<torch::Tensor>>()) {
              layer.blobs.push_back(tensor_blob(blob));
            }
          }
          net.layers.push_back(std::move(layer));
        }
        caffe::write_caffemodel(net, path);
      },
      py::arg("path"),
      py::arg("name"),
      py::arg("layers"),
      "Writes layers (dicts as read_caffemodel returns) as a V2 .caffemodel.");
  m.def(
      "load_caffemodel",
      [](const py::object& model,
         const std::string& path,
         bool skip_mismatched) {
        models::FcnNet holder(network_of(model));
        py::gil_scoped_release release;
        auto report = caffe::load_caffemodel(
            holder,
            path,
            caffe::ImportOptions().skip_mismatched(skip_mismatched));
        py::gil_scoped_acquire acquire;
        return report_dict(report);
      },
      py::arg("model"),
      py::arg("path"),
      py::arg("skip_mismatched") = false,
      "Copies a caffemodel's blobs into the model by layer name (net surgery for "
      "an ImageNet Alexnet or VGG16, transfers between FCNs). Returns the report: copied, reshaped, dropped, "
      "kept_initialised, text.");
  m.def(
      "save_caffemodel",
      [](const py::object& model, const std::string& path) {
        caffe::save_caffemodel(models::FcnNet(network_of(model)), path);
      },
      py::arg("model"),
      py::arg("path"),
      "Exports the model as a V2 caffemodel.");
  m.def(
      "export_caffe",
      [](const py::object& model,
         const std::string& path,
         int64_t height,
         int64_t width) {
        const models::FcnNet network(network_of(model));
        py::gil_scoped_release release;
        const auto written = caffe::export_caffe(network, path, height, width);
        return std::make_pair(written.weights, written.prototxt);
      },
      py::arg("model"),
      py::arg("path"),
      py::arg("height") = 0,
      py::arg("width") = 0,
      "Writes the model as Caffe deploys it: `path` (a .caffemodel) and its "
      "deploy .prototxt beside it, at height x width (0: the declared size, "
      "else 500x500); both or neither. Returns (caffemodel, prototxt).");
  m.def(
      "convolutionalize",
      [](const std::string& classifier,
         const std::string& output,
         const std::string& weights,
         const std::string& out_weights,
         int64_t num_classes,
         const std::vector<double>& mean,
         const std::string& loss_layer) {
        models::ConvolutionalizeOptions options;
        options.num_classes = num_classes;
        options.mean = mean;
        const auto result = caffe::convolutionalize_files(
            {classifier, output, weights, out_weights}, options, {loss_layer});
        py::dict out;
        out["notes"] = result.fcn.notes;
        out["prototxt"] = output;
        if (result.report) {
          out["weights"] = result.out_weights;
          out["report"] = report_dict(*result.report);
        }
        return out;
      },
      py::arg("classifier"),
      py::arg("output"),
      py::arg("weights") = "",
      py::arg("out_weights") = "",
      py::arg("num_classes") = 21,
      py::arg("mean") = std::vector<double>{},
      py::arg("loss_layer") = "",
      "Turns a classifier prototxt (deploy or train_val) into an FCN "
      "prototxt at `output`: InnerProducts as convolutions covering their "
      "input, score_fr of num_classes, fixed bilinear upscore, crop. With "
      "`weights` (a caffemodel) also writes the FCN's caffemodel "
      "(`out_weights`, default beside `output`). Returns notes, prototxt "
      "and, with weights, weights and the surgery report.");
  m.def(
      "write_deploy_prototxt",
      [](const py::object& model,
         const std::string& path,
         int64_t height,
         int64_t width) {
        caffe::write_deploy_prototxt(
            network_of(model)->spec(), path, height, width);
      },
      py::arg("model"),
      py::arg("path"),
      py::arg("height") = 0,
      py::arg("width") = 0,
      "Writes the deploy network (Input 1x3xHxW ... Crop) as Caffe prototxt; "
      "0x0: the size the network declares, else 500x500.");
}

} // namespace bindings
} // namespace fcnlab
