#include "commands.h"
#include "device_flags.h"
#include "network.h"

#include <fcnlab/data/dataset_dir.h>
#include <fcnlab/io/model_file.h>
#include <fcnlab/train/trainer.h>

#include <filesystem>
#include <iostream>

namespace fcnlab {
namespace tools {

void add_eval_command(CLI::App& app) {
  struct Flags {
    std::string model;
    std::string data;
    std::string split = "val";
    std::string confusion;
    NetworkFlags network;
    DeviceFlags compute;
  };
  auto f = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "eval",
      "Pixel accuracy, mean accuracy, mean IU, frequency-weighted IU and "
      "per-class IU of a model on a dataset split, and a confusion heat map");
  command->add_option("MODEL", f->model, "fcnlab model or caffemodel")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("DATA", f->data, "prepare-voc or create-db folder")
      ->required()
      ->check(CLI::ExistingDirectory);
  command->add_option("--split", f->split, "train or val")
      ->check(CLI::IsMember({"train", "val"}));
  command->add_option(
      "--confusion", f->confusion, "write a confusion heat-map PNG here");
  f->network.add_to(command, /*alexnet_options=*/true, /*num_classes=*/false);
  f->compute.add_to(command);
  command->callback([f] {
    const auto device = f->compute.parsed_device();
    const auto precision = f->compute.parsed_precision();
    const auto data = data::open_dataset_dir(f->data);
    const auto dataset = f->split == "val" ? data.val : data.train;
    TORCH_CHECK(dataset, "dataset ", f->data, " has no ", f->split, " split");
    f->network.num_classes = static_cast<int64_t>(data.class_names.size());
    auto model =
        io::load_network(f->model, [&] { return f->network.build(); }).model;
    model->to(device);
    const auto result = train::evaluate(model, *dataset, precision);
    std::cout << f->split << ": " << dataset->size().value() << " images, loss "
              << result.loss << "\n"
              << result.confusion.to_string(data.class_names);
    if (!f->confusion.empty()) {
      train::write_confusion_png(
          result.confusion, data.class_names, f->confusion);
      std::cout << "confusion matrix: " << f->confusion << "\n";
    }
  });
}

} // namespace tools
} // namespace fcnlab
