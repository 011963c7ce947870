#pragma once

#include <fcnlab/caffe/caffemodel.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/models/net_spec.h>

#include <torch/arg.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fcnlab {
namespace caffe {

/// Options of importing Caffe weights into a network.
struct ImportOptions {
  /// Keep a layer's current (initial) weights when its blobs have another
  /// shape, e.g. a score layer trained for another number of classes,
  /// instead of throwing.
  TORCH_ARG(bool, skip_mismatched) = false;
};

/// What an import did, layer by layer.
struct ImportReport {
  struct Entry {
    std::string layer;  ///< module name in the network (or Caffe layer name)
    std::string detail; ///< shapes, source layer, reason
  };
  std::vector<Entry> copied;   ///< blobs copied unchanged
  std::vector<Entry> reshaped; ///< InnerProduct weights -> conv kernels
  std::vector<Entry> dropped;  ///< Caffe layers with blobs the model lacks
  std::vector<Entry> kept_initialised; ///< model layers left as they were

  /// One line per entry: "copied    conv1  ...".
  std::string to_string() const;
};

/// Copies the blobs of `net` into `model` by layer name. This is net
/// surgery when `net` is an ImageNet classifier: InnerProduct layers whose
/// convolution twins of the same name exist in the model are reshaped into
/// their kernels (Alexnet's fc6 4096x9216 -> 4096x256x6x6, VGG16's fc6
/// 4096x25088 -> 4096x512x7x7, fc7 -> 1x1), and layers the model lacks
/// (fc8) are dropped. Between FCNs (fcn32s -> fcn16s -> fcn8s, or the
/// published fcn*-pascal files) the layers with the same names are copied
/// and the new ones keep their initial weights. Convolutions are copied
/// after a shape check; DIGITS' `score_fr_21classes` and
/// `upscore_21classes` names are recognised. Nothing is copied unless every
/// layer fits (or is skipped by `skip_mismatched`). Throws c10::Error naming
/// `source`, the layer and both shapes on a mismatch.
ImportReport import_weights(
    models::FcnNet model,
    const Net& net,
    const ImportOptions& options = {},
    const std::string& source = "caffemodel");

/// read_caffemodel(path) followed by import_weights.
ImportReport load_caffemodel(
    models::FcnNet model,
    const std::string& path,
    const ImportOptions& options = {});

} // namespace caffe
} // namespace fcnlab
