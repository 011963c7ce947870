#include <fcnlab/data/dataset_dir.h>

#include <fcnlab/data/lmdb_db.h>

#include <c10/util/Exception.h>

#include <filesystem>
#include <tuple>

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

DatasetDir open_dataset_folders(const DatasetFolders& folders) {
  for (const auto& [images, labels, split] :
       {std::tuple{&folders.train_images, &folders.train_labels, "training"},
        std::tuple{&folders.val_images, &folders.val_labels, "validation"}}) {
    TORCH_CHECK_VALUE(
        images->empty() == labels->empty(),
        "the ",
        split,
        " split needs both an image folder and a label folder, got ",
        images->empty() ? "labels " + *labels : "images " + *images);
  }
  TORCH_CHECK_VALUE(
      !folders.train_images.empty(), "no training image folder given");
  DatasetDir result;
  result.class_names = folders.classes.empty()
      ? voc_class_names()
      : read_class_names(folders.classes);
  result.palette = voc_palette();
  const auto options =
      VocOptions().num_classes(static_cast<int64_t>(result.class_names.size()));
  result.train = std::make_shared<VOCSegmentation>(
      folders.train_images, folders.train_labels, options);
  if (!folders.val_images.empty()) {
    result.val = std::make_shared<VOCSegmentation>(
        folders.val_images, folders.val_labels, options);
  }
  return result;
}

} // namespace data
} // namespace fcnlab
