#include "commands.h"

#include <fcnlab/data/lmdb_db.h>

#include <iostream>

namespace fcnlab {
namespace tools {

void add_create_db_command(CLI::App& app) {
  struct Flags {
    data::CreateDbOptions options;
    std::string feature_encoding = "png";
    std::string label_encoding = "png";
    std::string channel_conversion = "rgb";
    std::string resize;
  };
  auto flags = std::make_shared<Flags>();
  auto& o = flags->options;
  auto* command = app.add_subcommand(
      "create-db",
      "Build a DIGITS-compatible segmentation dataset: OUT/{train_db,val_db}/"
      "{features,labels} LMDBs of Caffe Datums");
  command->add_option("--train-images", o.train_images, "training image folder")
      ->required();
  command->add_option("--train-labels", o.train_labels, "training label folder")
      ->required();
  command->add_option("--val-images", o.val_images, "validation image folder");
  command->add_option("--val-labels", o.val_labels, "validation label folder");
  command
      ->add_option(
          "--val-percent",
          o.val_percent,
          "hold out this % of the training samples (without --val-images)")
      ->check(CLI::Range(0.0, 100.0));
  command->add_option("--seed", o.seed, "seed of the --val-percent shuffle");
  command->add_option(
      "--classes", o.classes_file, "class names file (default VOC's)");
  command
      ->add_option(
          "--feature-encoding", flags->feature_encoding, "png, jpg or none")
      ->check(CLI::IsMember({"png", "jpg", "none"}));
  command->add_option("--label-encoding", flags->label_encoding, "png or none")
      ->check(CLI::IsMember({"png", "none"}));
  command
      ->add_option(
          "--channel-conversion", flags->channel_conversion, "rgb, l or none")
      ->check(CLI::IsMember({"rgb", "l", "none"}));
  command->add_option(
      "--resize",
      flags->resize,
      "WIDTHxHEIGHT: resize every sample (DIGITS' enforce same shape)");
  command->add_option(
      "--colormap",
      o.colormap,
      "'label' (paletted/grayscale labels) or an R G B colormap file");
  command->add_flag(
      "--skip-bad",
      o.skip_bad,
      "record bad samples in OUT/skipped.txt and go on");
  command->add_option("--workers", o.workers, "encoding threads")
      ->check(positive_number());
  command->add_option("--out", o.out_dir, "output folder")->required();
  command->callback([flags] {
    auto options = flags->options;
    options.feature_encoding = data::parse_encoding(flags->feature_encoding);
    options.label_encoding = data::parse_encoding(flags->label_encoding);
    options.channel_conversion = flags->channel_conversion == "rgb"
        ? data::ChannelConversion::kBgr
        : flags->channel_conversion == "l" ? data::ChannelConversion::kGray
                                           : data::ChannelConversion::kNone;
    if (!flags->resize.empty()) {
      // Given as WIDTHxHEIGHT, as DIGITS' form asks for it.
      const auto [width, height] = parse_size(flags->resize);
      options.resize_width = width;
      options.resize_height = height;
    }
    const auto report = data::create_db(options, progress_line("create-db"));
    std::cout << "wrote " << options.out_dir << ": " << report.train
              << " train, " << report.val << " val entries";
    if (!report.skipped.empty()) {
      std::cout << ", " << report.skipped.size() << " skipped (see "
                << options.out_dir << "/skipped.txt)";
    }
    std::cout << "\n";
  });
}

} // namespace tools
} // namespace fcnlab
