#include "commands.h"
#include "network.h"

#include <fcnlab/caffe/exporter.h>
#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/util/atomic_file.h>
#ifdef FCNLAB_HAS_SERVE
#include <fcnlab/serve/network_drawing.h>
#endif

#include <iostream>

namespace fcnlab {
namespace tools {

void add_network_command(CLI::App& app) {
  struct Flags {
    NetworkFlags network;
    std::string deploy;
    std::string output;
    std::string draw;
  };
  auto f = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "network",
      "Print a network description as a Caffe prototxt: a built-in network "
      "(fcn_alexnet, fcn32s, fcn16s, fcn8s, fcn8s_atonce) or a prototxt "
      "file read back with derived crop offsets");
  command
      ->add_option(
          "NETWORK", f->network.network, "built-in name or .prototxt file")
      ->required();
  f->network.add_to(command, /*alexnet_options=*/false);
  command->add_option(
      "--deploy",
      f->deploy,
      "print the deploy network for a HEIGHTxWIDTH input instead (what "
      "Caffe or OpenCV dnn run)");
  command->add_option("-o,--output", f->output, "write to this file");
#ifdef FCNLAB_HAS_SERVE
  command->add_option(
      "--draw",
      f->draw,
      "draw the layer graph (names, types, output shapes, parameters, crop "
      "offsets) into this .svg or .png file, at the --deploy size or the "
      "network's own");
#endif
  command->callback([f] {
    const auto spec = f->network.spec();
#ifdef FCNLAB_HAS_SERVE
    if (!f->draw.empty()) {
      const auto [height, width] = f->deploy.empty()
          ? std::pair<int64_t, int64_t>{0, 0}
          : parse_size(f->deploy);
      const auto [drawn_height, drawn_width] =
          serve::draw_network(spec, f->draw, height, width);
      std::cout << "drew " << spec.name << " at " << drawn_height << "x"
                << drawn_width << " into " << f->draw << "\n";
      return;
    }
#endif
    std::string text;
    if (f->deploy.empty()) {
      text = caffe::net_prototxt(spec);
    } else {
      const auto [height, width] = parse_size(f->deploy);
      text = caffe::deploy_prototxt(spec, height, width);
    }
    if (f->output.empty()) {
      std::cout << text;
    } else {
      util::write_file_atomically(f->output, text);
      std::cout << "wrote " << f->output << "\n";
    }
  });
}

} // namespace tools
} // namespace fcnlab
