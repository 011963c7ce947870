#include <fcnlab/data/dataset_dir.h>

#include <fcnlab/data/lmdb_db.h>

#include <c10/util/Exception.h>

#include <filesystem>

namespace fcnlab {
namespace data {

DatasetDir open_dataset_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path root = dir;
  DatasetDir result;
  result.class_names = fs::exists(root / "classes.txt")
      ? read_class_names((root / "classes.txt").string())
      : voc_class_names();
  result.palette = fs::exists(root / "palette.txt")
      ? palette_from_colors(read_colormap((root / "palette.txt").string()))
      : voc_palette();
  const auto classes = static_cast<int64_t>(result.class_names.size());
  if (fs::is_directory(root / "train_db") ||
      fs::is_directory(root / "val_db")) {
    for (auto [split, target] :
         {std::pair{"train_db", &result.train},
          std::pair{"val_db", &result.val}}) {
      if (fs::is_directory(root / split)) {
        *target = std::make_shared<LmdbSegmentation>(
            (root / split).string(), classes);
      }
    }
    return result;
  }
  TORCH_CHECK(
      fs::is_directory(root / "train" / "images") ||
          fs::is_directory(root / "val" / "images"),
      "dataset ",
      dir,
      " is neither a prepare-voc folder ({train,val}/{images,labels}) nor a "
      "create-db folder ({train_db,val_db})");
  const auto options = VocOptions().num_classes(classes);
  if (fs::is_directory(root / "train" / "images")) {
    result.train = VOCSegmentation::prepared(dir, "train", options);
  }
  if (fs::is_directory(root / "val" / "images")) {
    result.val = VOCSegmentation::prepared(dir, "val", options);
  }
  return result;
}

} // namespace data
} // namespace fcnlab
