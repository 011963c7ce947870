#include "commands.h"
#include "network.h"

#include <fcnlab/caffe/exporter.h>
#include <fcnlab/caffe/importer.h>
#include <fcnlab/caffe/model_zoo.h>
#include <fcnlab/io/model_file.h>

#include <filesystem>
#include <iostream>

namespace fcnlab {
namespace tools {
void add_surgery_command(CLI::App& app) {
  struct Flags {
    std::vector<std::string> files;
    bool download = false;
    std::string cache_dir;
    NetworkFlags network;
    bool skip_mismatched = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "surgery",
      "Convolutionalize an ImageNet classifier caffemodel into an FCN "
      "(Alexnet -> fcn_alexnet, VGG16 -> fcn32s: fc6/fc7 become "
      "convolutions, fc8 is dropped), or transfer an FCN's weights by layer "
      "name (fcn32s -> fcn16s -> fcn8s). OUT ending in .caffemodel also gets "
      "a deploy .prototxt beside it; any other OUT is an fcnlab model file");
  command
      ->add_option(
          "SOURCE OUT",
          flags->files,
          "source caffemodel (omit with --download) and output file")
      ->required()
      ->expected(1, 2);
  command->add_flag(
      "--download",
      flags->download,
      "fetch the network's ImageNet classifier into the cache first "
      "(bvlc_alexnet, SHA1-checked, for fcn_alexnet; VGG16 for the VGG16 "
      "FCNs)");
  command->add_option(
      "--cache-dir",
      flags->cache_dir,
      "download cache (default ~/.cache/fcnlab)");
  flags->network.add_to(command, /*alexnet_options=*/false);
  command->add_flag(
      "--skip-mismatched",
      flags->skip_mismatched,
      "keep layers whose blobs have another shape initialised");
  command->callback([flags] {
    if (flags->files.size() != (flags->download ? 1u : 2u)) {
      throw CLI::ValidationError(
          "surgery",
          flags->download ? "with --download give only OUT"
                          : "give SOURCE.caffemodel and OUT");
    }
    const std::string source = flags->download
        ? caffe::fetch(
              caffe::imagenet_classifier(flags->network.network),
              flags->cache_dir)
        : flags->files[0];
    const std::string output = flags->files.back();

    auto model = flags->network.build();
    const auto report = caffe::load_caffemodel(
        model,
        source,
        caffe::ImportOptions().skip_mismatched(flags->skip_mismatched));
    std::cout << "net surgery on " << source << "\n" << report.to_string();

    if (std::filesystem::path(output).extension() == ".caffemodel") {
      const auto written = caffe::export_caffe(model, output);
      std::cout << "wrote " << written.weights << " and " << written.prototxt
                << "\n";
    } else {
      io::save_model(model, output);
      std::cout << "wrote " << output << "\n";
    }
  });
}

} // namespace tools
} // namespace fcnlab
