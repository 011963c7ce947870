#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace fcnlab {
namespace data {

/// Reports work done so far: files written out of the total.
using Progress = std::function<void(size_t done, size_t total)>;

struct PrepareVocReport {
  size_t train = 0;
  size_t val = 0;
};

/// Turns a VOC 2012 trainval archive (VOCtrainval_11-May-2012.tar, plain or
/// compressed) into out_dir/{train,val}/{images,labels}/ as listed by
/// ImageSets/Segmentation/{train,val}.txt, reading the archive directly
/// (twice: lists, then files) without extracting it. The new out_dir is
/// built beside the old one and replaces it only when complete.
/// Throws c10::Error naming the archive and the problem: a listed id without
/// its JPEG or PNG, a missing list, an unsafe entry name, a damaged archive.
PrepareVocReport prepare_voc(
    const std::string& tar_path,
    const std::string& out_dir,
    const Progress& progress = nullptr);

} // namespace data
} // namespace fcnlab
