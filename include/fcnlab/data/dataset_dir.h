#pragma once

#include <fcnlab/data/palette.h>
#include <fcnlab/data/voc.h>

#include <memory>
#include <string>
#include <vector>

namespace fcnlab {
namespace data {

/// The splits and metadata of a dataset folder.
struct DatasetDir {
  std::shared_ptr<SegmentationDataset> train; ///< null when absent
  std::shared_ptr<SegmentationDataset> val;   ///< null when absent
  std::vector<std::string> class_names;
  Palette palette;
};

/// Opens a prepare-voc output (DIR/{train,val}/{images,labels}) or a
/// create-db output (DIR/{train_db,val_db}, classes.txt, palette.txt).
/// Class names come from DIR/classes.txt, else VOC's; the palette from
/// DIR/palette.txt, else VOC's. Throws c10::Error naming DIR when it is
/// neither layout.
DatasetDir open_dataset_dir(const std::string& dir);

/// Image and label folders given one by one, as DIGITS' "separate folders"
/// form takes them (the CLI's --train-images ... --classes).
struct DatasetFolders {
  std::string train_images;
  std::string train_labels;
  std::string val_images; ///< empty: no validation split
  std::string val_labels;
  std::string classes; ///< a class names file; empty: VOC's 21
};

/// VOCSegmentation over each split of `folders`, with as many classes as
/// there are names, and VOC's palette. Throws c10::Error naming the folder
/// that is missing, and when only one of a split's two folders is given.
DatasetDir open_dataset_folders(const DatasetFolders& folders);

} // namespace data
} // namespace fcnlab
