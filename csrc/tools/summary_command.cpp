#include "commands.h"

#include <fcnlab/caffe/importer.h>
#include <fcnlab/models/summary.h>

#include <iostream>

namespace fcnlab {
namespace tools {

void add_summary_command(CLI::App& app) {
  struct Flags {
    std::string input = "500x500";
    std::string weights;
    int64_t num_classes = 21;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "summary",
      "Print FCN-Alexnet layer by layer: output shapes, parameters, GFLOP, "
      "coordinate maps and the derived crop offset");
  command->add_option(
      "--input", flags->input, "input size HEIGHTxWIDTH (default 500x500)");
  command->add_option(
      "--weights",
      flags->weights,
      "fcnlab model or caffemodel whose network to describe");
  command->add_option(
      "--num-classes", flags->num_classes, "classes (without --weights)");
  command->callback([flags] {
    const auto [height, width] = parse_size(flags->input);
    models::FcnAlexNetOptions options(flags->num_classes);
    if (!flags->weights.empty()) {
      caffe::ImportReport report;
      auto model = caffe::load_network(flags->weights, options, {}, &report);
      options = model->options;
      std::cout << "weights: " << flags->weights << "\n"
                << report.to_string() << "\n";
    }
    std::cout << models::summarize(options, height, width).to_string();
  });
}

} // namespace tools
} // namespace fcnlab
