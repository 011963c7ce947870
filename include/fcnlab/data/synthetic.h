#pragma once

#include <torch/arg.h>

#include <cstdint>
#include <string>

namespace fcnlab {
namespace data {

/// Options of the synthetic VOC archive.
struct SynthVocOptions {
  /// Images listed for segmentation (train + val).
  TORCH_ARG(int64_t, images) = 60;
  TORCH_ARG(uint64_t, seed) = 0;
  /// Share of the images listed in val.txt.
  TORCH_ARG(double, val_fraction) = 0.25;
  /// Longest image side: 500 gives VOC's sizes (500x375, 375x500, 500x333,
  /// ...); smaller values scale every size down for fast runs.
  TORCH_ARG(int64_t, max_side) = 500;
};

/// Writes a tar archive with VOCtrainval_11-May-2012.tar's layout:
/// VOCdevkit/VOC2012/JPEGImages/<id>.jpg, SegmentationClass/<id>.png
/// (8-bit paletted, VOC palette, 255 borders around objects as in VOC) and
/// ImageSets/Segmentation/{train,val}.txt, plus a few JPEGs that no list
/// names (as in VOC). Each image shows 1-3 objects of the 20 VOC classes on
/// a textured background; every class has its own color, texture and shape,
/// so a network can learn them. The same seed gives the same archive.
void write_synthetic_voc(
    const std::string& tar_path,
    const SynthVocOptions& options = {});

/// The same images in the layout of SBD's benchmark.tgz:
/// benchmark_RELEASE/dataset/img/<id>.jpg, cls/<id>.mat (MAT v5 through
/// libmatio, struct GTcls with Segmentation, without VOC's 255 outlines) and
/// {train,val}.txt.
void write_synthetic_sbd(
    const std::string& tar_path,
    const SynthVocOptions& options = {});

} // namespace data
} // namespace fcnlab
