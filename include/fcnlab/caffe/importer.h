#pragma once

#include <fcnlab/caffe/caffemodel.h>
#include <fcnlab/models/fcn_alexnet.h>

#include <torch/arg.h>

#include <string>
#include <vector>

namespace fcnlab {
namespace caffe {

/// Options of importing Caffe weights into an FcnAlexNet.
struct ImportOptions {
  /// Keep a layer's current (initial) weights when its blobs have another
  /// shape, e.g. a score layer trained for another number of classes,
  /// instead of throwing.
  TORCH_ARG(bool, skip_mismatched) = false;
};

/// What an import did, layer by layer.
struct ImportReport {
  struct Entry {
    std::string layer;  ///< module name in FcnAlexNet (or Caffe layer name)
    std::string detail; ///< shapes, source layer, reason
  };
  std::vector<Entry> copied;   ///< blobs copied unchanged
  std::vector<Entry> reshaped; ///< InnerProduct weights -> conv kernels
  std::vector<Entry> dropped;  ///< Caffe layers with blobs the model lacks
  std::vector<Entry> kept_initialised; ///< model layers left as they were

  /// One line per entry: "copied    conv1  ...".
  std::string to_string() const;
};

/// Copies the blobs of `net` into `model` by layer name (net surgery when
/// `net` is an ImageNet Alexnet): convolutions are copied after a shape
/// check, InnerProduct fc6 (4096x9216) and fc7 (4096x4096) are reshaped into
/// the 6x6 and 1x1 convolution kernels, DIGITS' `score_fr_21classes` and
/// `upscore_21classes` names are recognised, layers the model lacks (fc8)
/// are dropped. Nothing is copied unless every layer fits (or is skipped by
/// `skip_mismatched`). Throws c10::Error naming `source`, the layer and both
/// shapes on a mismatch.
ImportReport import_weights(
    models::FcnAlexNet& model,
    const Net& net,
    const ImportOptions& options = {},
    const std::string& source = "caffemodel");

/// read_caffemodel(path) followed by import_weights.
ImportReport load_caffemodel(
    models::FcnAlexNet& model,
    const std::string& path,
    const ImportOptions& options = {});

/// A network from any weights file: an fcnlab model file is loaded as saved
/// (its own options win); anything else is read as a caffemodel and imported
/// into FcnAlexNet(options), with the report stored in `report` if given.
models::FcnAlexNet load_network(
    const std::string& path,
    const models::FcnAlexNetOptions& options = {},
    const ImportOptions& import_options = {},
    ImportReport* report = nullptr);

} // namespace caffe
} // namespace fcnlab
