#include "commands.h"

#include <fcnlab/data/explore.h>
#include <fcnlab/data/lmdb_db.h>

#include <filesystem>
#include <iostream>

namespace fcnlab {
namespace tools {

void add_explore_db_command(CLI::App& app) {
  struct Flags {
    std::string dir;
    std::string montage;
    size_t count = 8;
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
  command->add_option("--count", flags->count, "samples in the montage");
  command->callback([flags] {
    namespace fs = std::filesystem;
    const fs::path root = flags->dir;
    const bool whole = fs::exists(root / "train_db");
    const fs::path meta = whole ? root : root.parent_path();
    auto names = data::voc_class_names();
    if (fs::exists(meta / "classes.txt")) {
      names = data::read_class_names((meta / "classes.txt").string());
    }
    data::Palette palette = data::voc_palette();
    if (fs::exists(meta / "palette.txt")) {
      palette = data::palette_from_colors(
          data::read_colormap((meta / "palette.txt").string()));
    }
    std::vector<fs::path> dbs;
    for (const char* split : {"train_db", "val_db"}) {
      if (whole && fs::exists(root / split)) {
        dbs.push_back(root / split);
      }
    }
    if (!whole) {
      dbs.push_back(root);
    }
    const auto classes = static_cast<int64_t>(names.size());
    for (const auto& db : dbs) {
      data::LmdbSegmentation dataset(db.string(), classes);
      std::cout << db.filename().string() << "\n"
                << data::dataset_stats(dataset).to_string(names);
    }
    if (!flags->montage.empty()) {
      data::LmdbSegmentation first(dbs.front().string(), classes);
      data::write_montage(first, flags->montage, flags->count, palette);
      std::cout << "montage: " << flags->montage << "\n";
    }
  });
}

} // namespace tools
} // namespace fcnlab
