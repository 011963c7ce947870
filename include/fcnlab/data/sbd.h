#pragma once

#include <fcnlab/data/prepare_voc.h>

#include <ATen/core/Tensor.h>

#include <string>

namespace fcnlab {
namespace data {

/// The class map of an SBD `cls/<id>.mat` file (MATLAB v5, read with
/// libmatio): the `Segmentation` field of its `GTcls` struct as an H x W
/// uint8 tensor (class k is k, no class is 0; SBD has no 255 border).
/// Throws c10::Error naming the file: not a MAT file, no GTcls struct, no
/// Segmentation field, not a 2-D numeric matrix, values outside 0..255, or
/// larger than max_image_pixels().
at::Tensor read_sbd_label(const std::string& mat_path);

/// Writes `label` (H x W uint8) as SBD does: a MAT v5 file with a struct
/// GTcls holding Segmentation (uint8) and CategoriesPresent (the classes
/// other than 0, a double column). For tests and synthetic archives.
void write_sbd_label(const std::string& mat_path, const at::Tensor& label);

/// Turns SBD's benchmark.tgz (or the tar inside) into
/// out_dir/{train,val}/{images,labels}/ as prepare_voc() does, from
/// benchmark_RELEASE/dataset/{img/*.jpg, cls/*.mat, train.txt, val.txt},
/// read straight from the archive; labels become paletted PNGs (VOC
/// palette). With `fcn_val_ids` (a file of VOC 2011 ids such as FCN's
/// seg11valid.txt) and `voc_archive` (a VOC trainval archive), val holds those
/// VOC images and labels instead, and train every SBD image (train and val)
/// whose id is not among them: FCN's split. Throws c10::Error naming the
/// archive and the problem.
PrepareVocReport prepare_sbd(
    const std::string& tar_path,
    const std::string& out_dir,
    const Progress& progress = nullptr,
    const std::string& fcn_val_ids = "",
    const std::string& voc_archive = "");

} // namespace data
} // namespace fcnlab
