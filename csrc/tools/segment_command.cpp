#include "commands.h"
#include "device_flags.h"
#include "network.h"

#include <fcnlab/infer/segment.h>
#include <fcnlab/io/model_file.h>

#include <iostream>

namespace fcnlab {
namespace tools {

void add_segment_command(CLI::App& app) {
  struct Flags {
    std::string model;
    std::vector<std::string> images;
    std::string out = "segmented";
    double opacity = 0.5;
    std::string palette;
    std::string classes;
    NetworkFlags network;
    DeviceFlags compute;
  };
  auto f = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "segment",
      "Segment images at their native size: a paletted class mask and an "
      "overlay with a legend per image (DIGITS' Test One)");
  command->add_option("MODEL", f->model, "fcnlab model or caffemodel")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("IMAGE", f->images, "images to segment")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--out", f->out, "output folder");
  command
      ->add_option("--opacity", f->opacity, "class color weight in the overlay")
      ->check(CLI::Range(0.0, 1.0));
  command->add_option(
      "--palette", f->palette, "R G B colormap file (default VOC's)");
  command->add_option("--classes", f->classes, "class names file");
  f->network.add_to(command, /*alexnet_options=*/true);
  f->compute.add_to(command);
  command->callback([f] {
    const auto device = f->compute.parsed_device();
    const Autocast autocast(device.type(), f->compute.parsed_precision());
    auto loaded =
        io::load_network(f->model, [&] { return f->network.build(); });
    auto model = loaded.model;
    auto names = std::move(loaded.class_names);
    model->to(device);
    if (!f->classes.empty()) {
      names = data::read_class_names(f->classes);
    }
    if (names.empty() && model->num_classes() == 21) {
      names = data::voc_class_names();
    }
    const auto palette = f->palette.empty()
        ? data::voc_palette()
        : data::palette_from_colors(data::read_colormap(f->palette));
    for (const auto& file : infer::segment_files(
             model, f->images, f->out, palette, names, f->opacity)) {
      std::cout << file.image << " -> " << file.mask << ", " << file.overlay
                << "\n";
    }
  });
}

} // namespace tools
} // namespace fcnlab
