#include "commands.h"
#include "network.h"

#include <fcnlab/io/model_file.h>
#include <fcnlab/models/summary.h>

#include <iostream>

namespace fcnlab {
namespace tools {

void add_summary_command(CLI::App& app) {
  struct Flags {
    std::string input;
    std::string weights;
    NetworkFlags network;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "summary",
      "Print a network layer by layer: output shapes, parameters, GFLOP, "
      "coordinate maps and the derived crop offsets");
  command->add_option(
      "--input",
      flags->input,
      "input size HEIGHTxWIDTH (default: the size the network declares, "
      "else 500x500)");
  command->add_option(
      "--weights",
      flags->weights,
      "fcnlab model or caffemodel whose network to describe");
  flags->network.add_to(command, /*alexnet_options=*/true);
  command->callback([flags] {
    auto spec = flags->network.spec();
    if (!flags->weights.empty()) {
      const auto loaded = io::load_network(flags->weights, spec);
      spec = loaded.model->spec();
      std::cout << "weights: " << flags->weights << "\n";
      if (loaded.report) {
        std::cout << loaded.report->to_string() << "\n";
      }
    }
    const auto [height, width] = flags->input.empty()
        ? models::default_input_size(spec)
        : parse_size(flags->input);
    std::cout << spec.name << "\n"
              << models::summarize(spec, height, width).to_string();
  });
}

} // namespace tools
} // namespace fcnlab
