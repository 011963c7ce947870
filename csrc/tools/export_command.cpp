#include "commands.h"
#include "network.h"

#include <fcnlab/caffe/exporter.h>
#include <fcnlab/io/model_file.h>

#include <filesystem>
#include <iostream>

namespace fcnlab {
namespace tools {

void add_export_command(CLI::App& app) {
  struct Flags {
    std::string model;
    std::string out;
    std::string input;
    NetworkFlags network;
  };
  auto f = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "export",
      "Write a model for deployment. OUT ending in .caffemodel gets the "
      "weights in Caffe's format and a deploy .prototxt beside it (what "
      "Caffe, OpenCV's dnn module and TensorRT's Caffe parser read)");
  command->add_option("MODEL", f->model, "fcnlab model file or caffemodel")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("OUT", f->out, "output file (.caffemodel)")->required();
  command->add_option(
      "--input",
      f->input,
      "HxW input size of the deploy description (default: the size the "
      "network declares, else 500x500)");
  f->network.add_to(command, /*alexnet_options=*/true);
  command->callback([f] {
    if (std::filesystem::path(f->out).extension() != ".caffemodel") {
      throw CLI::ValidationError(
          "OUT",
          f->out +
              ": export writes a .caffemodel (with its deploy "
              ".prototxt beside it)");
    }
    const auto [height, width] = f->input.empty()
        ? std::pair<int64_t, int64_t>{0, 0}
        : parse_size(f->input);
    const auto loaded =
        io::load_network(f->model, [&] { return f->network.build(); });
    const auto written =
        caffe::export_caffe(loaded.model, f->out, height, width);
    std::cout << "wrote " << written.weights << " and " << written.prototxt
              << "\n";
  });
}

} // namespace tools
} // namespace fcnlab
