#include "augment_flags.h"
#include "commands.h"

#include <fcnlab/data/dataset_dir.h>
#include <fcnlab/data/explore.h>

#include <filesystem>
#include <iostream>

namespace fcnlab {
namespace tools {

void add_explore_db_command(CLI::App& app) {
  struct Flags {
    std::string dir;
    std::string montage;
    size_t count = 8;
    AugmentFlags augment;
    uint64_t seed = 0;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "explore-db",
      "Entry count, image sizes and class frequencies of a create-db dataset "
      "(or one of its train_db/val_db), and a montage picture");
  command
      ->add_option("DIR", flags->dir, "create-db output or a train_db/val_db")
      ->required()
      ->check(CLI::ExistingDirectory);
  command->add_option(
      "--montage", flags->montage, "PNG of images beside labels");
  command->add_option("--count", flags->count, "samples in the montage")
      ->check(positive_number());
  flags->augment.add_to(command);
  command->add_option(
      "--seed", flags->seed, "the augmentation draws of the montage");
  command->callback([flags] {
    namespace fs = std::filesystem;
    const auto augment = flags->augment.options();
    // DIR is a create-db output, or one of its splits (metadata beside it).
    const fs::path root = fs::absolute(flags->dir);
    const bool whole =
        fs::exists(root / "train_db") || fs::exists(root / "val_db");
    const auto dataset_dir =
        data::open_dataset_dir((whole ? root : root.parent_path()).string());
    std::vector<
        std::pair<std::string, std::shared_ptr<data::SegmentationDataset>>>
        splits;
    for (const auto& [name, split] :
         {std::pair{"train_db", dataset_dir.train},
          std::pair{"val_db", dataset_dir.val}}) {
      if (split && (whole || root.filename() == name)) {
        splits.emplace_back(name, split);
      }
    }
    TORCH_CHECK(
        !splits.empty(),
        "dataset ",
        flags->dir,
        " is neither a create-db folder nor its train_db/val_db");
    for (const auto& [name, split] : splits) {
      std::cout << name << "\n"
                << data::dataset_stats(*split).to_string(
                       dataset_dir.class_names);
    }
    if (!flags->montage.empty()) {
      data::write_montage(
          *splits.front().second,
          flags->montage,
          flags->count,
          dataset_dir.palette,
          /*tile_height=*/128,
          augment,
          flags->seed);
      std::cout << "montage: " << flags->montage << "\n";
    }
  });
}

} // namespace tools
} // namespace fcnlab
