#include "network.h"

#include "commands.h"

#include <fcnlab/caffe/network.h>

namespace fcnlab {
namespace tools {

void NetworkFlags::add_to(
    CLI::App* command,
    bool alexnet_options,
    bool with_num_classes) {
  network_option_ = command->add_option(
      "--network",
      network,
      "fcn_alexnet (default), fcn32s, fcn16s, fcn8s, fcn8s_atonce, or a Caffe "
      ".prototxt (deploy, train_val or DIGITS all-in-one)");
  command->add_option(
      "--loss-layer",
      loss_layer,
      "prototxt with several SoftmaxWithLoss layers (FCN's SIFT Flow nets): "
      "the one to train and evaluate; the layers that do not feed it are "
      "pruned");
  if (with_num_classes) {
    command
        ->add_option(
            "--num-classes", num_classes, "classes of a built-in network")
        ->check(positive_number());
  }
  if (!alexnet_options) {
    return;
  }
  command
      ->add_option(
          "--mean",
          mean,
          "fcn_alexnet: BGR value(s) subtracted from the input: 116, or B G R")
      ->expected(1, 3)
      ->delimiter(',');
  command->add_option("--dropout", dropout, "fcn_alexnet: drop6/drop7 ratio")
      ->check(fraction_below_one());
}

models::FcnAlexNetOptions NetworkFlags::options() const {
  return models::FcnAlexNetOptions(num_classes).mean(mean).dropout(dropout);
}

models::NetSpec NetworkFlags::spec() const {
  return caffe::network_spec(network, options(), {loss_layer});
}

models::FcnNet NetworkFlags::build() const {
  return caffe::build_network(network, options(), {loss_layer});
}

} // namespace tools
} // namespace fcnlab
