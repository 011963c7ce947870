#pragma once

#include <fcnlab/models/net_spec.h>

#include <string>

namespace fcnlab {
namespace caffe {

/// How to read a description with more than one way to train it.
struct PrototxtOptions {
  /// The SoftmaxWithLoss layer to train and evaluate; required when the
  /// network has several (FCN's SIFT Flow nets: loss_sem and loss_geo).
  /// The layers that do not feed it are pruned.
  std::string loss_layer;
};

/// Reads a Caffe network description in text format: deploy files,
/// train_val files, DIGITS' all-in-one files and FCN's train/val files, in
/// any of Caffe's schema versions (V2 `layer` with type strings, V1
/// `layers` with enum types, V0 `layers { layer {...} }`). Every file Caffe
/// parses parses; layers are kept when they apply to the TRAIN phase
/// (`include`/`exclude` rules; stages are not set).
///
/// - Input, Data, DummyData, ImageData, MemoryData and HDF5Data layers give
///   the input blob and the mean (transform_param mean_value).
/// - A Python layer without bottoms is the data layer (FCN's voc_layers):
///   the tops the loss layers take as labels are labels, the other top is
///   the image; its param_str is read as the Python dict FCN writes, its
///   `mean` (BGR) becomes the input mean and its other keys are listed in
///   the spec's notes.
/// - SoftmaxWithLoss gives the output blob, ignore_label and
///   normalize/normalization; with several, `options.loss_layer` picks one.
/// - Accuracy and Silence are read and skipped; a trailing Softmax is left
///   out so that the network returns scores. Crop offsets that are not
///   written are derived (coord_map.h).
///
/// Throws c10::Error naming `source`, the line and the layer for a syntax
/// error, a layer type fcnlab does not run (listing those it runs), an
/// unsupported option, a Python layer with bottoms, several losses without
/// a choice (listing them), a network that needs two image inputs (naming
/// them), an unknown bottom, a cycle, or a written crop offset that the
/// geometry contradicts.
models::NetSpec parse_prototxt(
    const std::string& text,
    const std::string& source = "prototxt",
    const PrototxtOptions& options = {});

/// parse_prototxt() of a file's content; throws naming `path` when it cannot
/// be read.
models::NetSpec read_prototxt(
    const std::string& path,
    const PrototxtOptions& options = {});

/// The network named by a user: a built-in description (builtin_nets.h) with
/// `num_classes` classes, or else a prototxt file (which has its own),
/// read with `options`.
models::NetSpec network_spec(
    const std::string& network,
    int64_t num_classes,
    const PrototxtOptions& options = {});

/// `spec` as a V2 prototxt that parse_prototxt() reads back to the same
/// description: an Input layer for the image (and the label, with the mean
/// as transform_param), the layers with their param blocks, fillers and
/// derived crop offsets, and the SoftmaxWithLoss layer.
std::string net_prototxt(const models::NetSpec& spec);

} // namespace caffe
} // namespace fcnlab
