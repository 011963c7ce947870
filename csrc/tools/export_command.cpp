#include "commands.h"
#include "network.h"

#include <fcnlab/caffe/exporter.h>
#include <fcnlab/deploy/onnx_export.h>
#include <fcnlab/io/model_file.h>

#include <filesystem>
#include <iostream>

namespace fcnlab {
namespace tools {
namespace {

struct Flags {
  std::string model;
  std::string out;
  std::string input;
  int64_t opset = 13;
  std::string output = "scores";
  bool segnet = false;
  NetworkFlags network;
};

void write_onnx(const Flags& f, const models::FcnNet& model) {
  deploy::OnnxExportOptions options;
  if (!f.input.empty()) {
    std::tie(options.height, options.width) = parse_size(f.input);
  }
  options.opset = f.opset;
  options.output = deploy::parse_onnx_output(f.output);
  options.segnet = f.segnet;
  const auto written = deploy::export_onnx(model, f.out, options);
  std::cout << "wrote " << written.path << " (ONNX opset " << f.opset << ", "
            << (written.height > 0 ? std::to_string(written.height) + "x" +
                        std::to_string(written.width) + " input"
                                   : std::string("any input size"))
            << ")\n  input  " << written.input << "\n  output "
            << written.output << "\n";
}

void write_caffe(const Flags& f, const models::FcnNet& model) {
  if (f.segnet || f.output != "scores" || f.opset != 13) {
    throw CLI::ValidationError(
        "OUT",
        f.out + ": --segnet, --output and --opset apply to an .onnx export");
  }
  const auto [height, width] =
      f.input.empty() ? std::pair<int64_t, int64_t>{0, 0} : parse_size(f.input);
  const auto written = caffe::export_caffe(model, f.out, height, width);
  std::cout << "wrote " << written.weights << " and " << written.prototxt
            << "\n";
}

} // namespace

void add_export_command(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "export",
      "Write a model for deployment. OUT ending in .onnx gets an ONNX model "
      "(ONNX Runtime, TensorRT, OpenVINO, OpenCV); .caffemodel gets the "
      "weights in Caffe's format and a deploy .prototxt beside it (Caffe, "
      "OpenCV's dnn module, TensorRT's Caffe parser)");
  command->add_option("MODEL", f->model, "fcnlab model file or caffemodel")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("OUT", f->out, "output file (.onnx or .caffemodel)")
      ->required();
  command->add_option(
      "--input",
      f->input,
      "HxW: a fixed input size (ONNX default: any size; Caffe default: the "
      "size the network declares, else 500x500)");
  command
      ->add_option("--opset", f->opset, "ONNX opset, 11 (TensorRT 7.1) to 17")
      ->default_val(13)
      ->check(CLI::Range(11, 17));
  command
      ->add_option(
          "--output",
          f->output,
          "what the ONNX model ends with: scores, probabilities (softmax) or "
          "classes (the ArgMax class map)")
      ->default_val("scores")
      ->check(CLI::IsMember({"scores", "probabilities", "classes"}));
  command->add_flag(
      "--segnet",
      f->segnet,
      "ONNX for jetson-inference's segNet: blobs input_0 (ImageNet-"
      "normalized RGB) and output_0 (the coarse scores); needs --input");
  f->network.add_to(command, /*alexnet_options=*/true);
  command->callback([f] {
    const auto extension = std::filesystem::path(f->out).extension();
    if (extension != ".onnx" && extension != ".caffemodel") {
      throw CLI::ValidationError(
          "OUT",
          f->out +
              ": export writes .onnx, or .caffemodel (with its deploy "
              ".prototxt beside it)");
    }
    if (f->segnet && f->input.empty()) {
      throw CLI::ValidationError(
          "--segnet", "segNet needs a fixed size: add --input HxW");
    }
    const auto loaded =
        io::load_network(f->model, [&] { return f->network.build(); });
    if (extension == ".onnx") {
      write_onnx(*f, loaded.model);
    } else {
      write_caffe(*f, loaded.model);
    }
  });
}

} // namespace tools
} // namespace fcnlab
