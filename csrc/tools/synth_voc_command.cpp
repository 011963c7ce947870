#include "commands.h"

#include <fcnlab/data/synthetic.h>

#include <iostream>

namespace fcnlab {
namespace tools {

void add_synth_voc_command(CLI::App& app) {
  struct Flags {
    std::string out;
    int64_t images = 60;
    uint64_t seed = 0;
    int64_t max_side = 500;
    double val_fraction = 0.25;
    bool sbd = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "synth-voc",
      "Write a synthetic archive with VOCtrainval_11-May-2012.tar's layout "
      "(JPEG images, paletted PNG labels, train/val lists)");
  command->add_option("OUT.tar", flags->out, "archive to write")->required();
  command
      ->add_option(
          "--images", flags->images, "segmentation images (train + val)")
      ->check(positive_number());
  command->add_option(
      "--seed", flags->seed, "random seed (same seed, same archive)");
  command
      ->add_option(
          "--max-side",
          flags->max_side,
          "longest image side; 500 gives VOC's sizes, less scales them down")
      ->check(positive_number());
  command
      ->add_option(
          "--val-fraction", flags->val_fraction, "share listed in val.txt")
      ->check(fraction_below_one());
  command->add_flag(
      "--sbd",
      flags->sbd,
      "SBD's benchmark.tgz layout instead (img/*.jpg, cls/*.mat, lists)");
  command->callback([flags] {
    const auto options = data::SynthVocOptions()
                             .images(flags->images)
                             .seed(flags->seed)
                             .max_side(flags->max_side)
                             .val_fraction(flags->val_fraction);
    if (flags->sbd) {
      data::write_synthetic_sbd(flags->out, options);
    } else {
      data::write_synthetic_voc(flags->out, options);
    }
    std::cout << "wrote " << flags->out << " (" << flags->images
              << " segmentation images)\n";
  });
}

} // namespace tools
} // namespace fcnlab
