#include "commands.h"

#include <fcnlab/caffe/convolutionalize.h>

#include <iostream>

namespace fcnlab {
namespace tools {

void add_convolutionalize_command(CLI::App& app) {
  struct Flags {
    caffe::ConvolutionalizeFiles files;
    models::ConvolutionalizeOptions options;
    std::string loss_layer;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "convolutionalize",
      "Turn an image classifier's prototxt (and caffemodel) into an FCN: "
      "InnerProduct layers become convolutions covering their input, the "
      "final classifier a score_fr of N classes, then a fixed bilinear "
      "upscore and a crop back to the input (bvlc_alexnet -> fcn_alexnet, "
      "VGG16 -> fcn32s)");
  command
      ->add_option(
          "CLASSIFIER",
          flags->files.classifier,
          "the classifier's deploy or train_val .prototxt")
      ->required();
  command
      ->add_option(
          "-o,--output", flags->files.fcn, "where the FCN's .prototxt goes")
      ->required();
  command->add_option(
      "--weights",
      flags->files.weights,
      "the classifier's .caffemodel, whose weights the FCN takes (net "
      "surgery)");
  command->add_option(
      "--out-weights",
      flags->files.out_weights,
      "where the FCN's .caffemodel goes (default: beside --output)");
  command
      ->add_option(
          "--num-classes", flags->options.num_classes, "classes of the FCN")
      ->check(positive_number());
  command
      ->add_option(
          "--mean",
          flags->options.mean,
          "B G R means of the FCN's input (default: the classifier's, else "
          "FCN's ImageNet means)")
      ->expected(1, 3)
      ->delimiter(',');
  command->add_option(
      "--loss-layer",
      flags->loss_layer,
      "a train_val with several losses (GoogLeNet): the head to convert");
  command->callback([flags] {
    const auto result = caffe::convolutionalize_files(
        flags->files, flags->options, {flags->loss_layer});
    std::cout << result.fcn.name << "\n";
    for (const auto& note : result.fcn.notes) {
      std::cout << "note: " << note << "\n";
    }
    std::cout << "wrote " << flags->files.fcn << "\n";
    if (result.report) {
      std::cout << "net surgery on " << flags->files.weights << "\n"
                << result.report->to_string() << "wrote " << result.out_weights
                << "\n";
    }
  });
}

} // namespace tools
} // namespace fcnlab
