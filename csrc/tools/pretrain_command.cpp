#include "commands.h"
#include "device_flags.h"
#include "interrupts.h"
#include "run_flags.h"
#include "solver_flags.h"

#include <fcnlab/caffe/exporter.h>
#include <fcnlab/data/dataset_dir.h>
#include <fcnlab/train/pretrain.h>

#include <iostream>

namespace fcnlab {
namespace tools {

void add_pretrain_command(CLI::App& app) {
  struct Flags {
    std::string data;
    std::string resume;
    std::string output_dir = "pretrain_out";
    SolverFlags solver;
    DeviceFlags compute;
    int64_t epochs = 0;
    RunFlags run;
    double context = 0;
    int64_t min_pixels = 0;
    bool no_background = false;
  };
  auto f = std::make_shared<Flags>();
  const auto defaults = train::pretrain_defaults();
  const data::CropOptions crops;
  f->solver.lr = defaults.solver().base_lr();
  f->solver.iter_size = defaults.solver().iter_size();
  f->solver.lr_policy = "fixed"; // pretrain_defaults()' policy
  f->epochs = defaults.epochs();
  f->context = crops.context();
  f->min_pixels = crops.min_pixels();

  auto* command = app.add_subcommand(
      "pretrain",
      "Train bvlc_alexnet's classifier (227x227 inputs, fc8 sized to the "
      "classes) on object crops cut from a segmentation dataset's own labels, "
      "and save it as OUTPUT_DIR/alexnet.caffemodel in bvlc_alexnet's "
      "layout, for `fcnlab surgery` or `train --weights`: ImageNet-like "
      "weights where no ImageNet model is at hand");
  command->add_option("DATA", f->data, "prepare-voc or create-db output folder")
      ->required();
  command
      ->add_option("--output-dir", f->output_dir, "caffemodel, snapshots, logs")
      ->capture_default_str();
  command->add_option("--resume", f->resume, "continue from a snapshot");
  command->add_option("--epochs", f->epochs, "training epochs")
      ->capture_default_str()
      ->check(positive_number());
  f->solver.add_to(command);
  f->run.add_to(command, "initialisation and order");
  command
      ->add_option(
          "--context",
          f->context,
          "context around each object's box, as a share of its longer side")
      ->capture_default_str()
      ->check(non_negative_number());
  command
      ->add_option(
          "--min-pixels", f->min_pixels, "smallest object that makes a crop")
      ->capture_default_str()
      ->check(non_negative_number());
  command->add_flag(
      "--no-background", f->no_background, "no background crops (class 0)");
  f->compute.add_to(command);

  command->callback([f, defaults] {
    const auto data = data::open_dataset_dir(f->data);
    if (!data.train) {
      throw CLI::ValidationError("pretrain", "the data has no training split");
    }
    const auto classes = static_cast<int64_t>(data.class_names.size());
    auto options = defaults;
    options.epochs(f->epochs)
        .solver(f->solver.options(/*normalized_loss=*/true))
        .output_dir(f->output_dir)
        .device(f->compute.parsed_device().str())
        .precision(to_string(f->compute.parsed_precision()));
    f->run.apply_to(options);
    const auto crops = data::CropOptions()
                           .context(f->context)
                           .min_pixels(f->min_pixels)
                           .background(!f->no_background);
    auto trainer = train::classifier_trainer(
        data.train, data.val, classes, options, crops, data.class_names);
    if (!f->resume.empty()) {
      trainer->resume(f->resume);
      std::cout << "resumed from " << f->resume << " at iteration "
                << trainer->iteration() << "\n";
    }
    std::cout << "pretrain: Alexnet classifier, " << classes << " classes, "
              << f->epochs << " epochs, " << options.solver().iter_size()
              << " crops per update, lr " << options.solver().base_lr()
              << std::endl;
    train_until_interrupted(*trainer);
    if (trainer->rank() != 0) {
      return; // rank 0 writes the files
    }
    const auto weights = caffe::classifier_caffemodel_path(f->output_dir);
    std::cout << "classifier: " << weights << " (bvlc_alexnet's layout)\n"
              << "next: fcnlab surgery " << weights
              << " fcn_alexnet.pt, or fcnlab train DATA --weights " << weights
              << "\n";
  });
}

} // namespace tools
} // namespace fcnlab
