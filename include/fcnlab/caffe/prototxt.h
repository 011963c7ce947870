#pragma once

#include <fcnlab/models/net_spec.h>

#include <string>

namespace fcnlab {
namespace caffe {

/// Reads a Caffe network description in text format: deploy files,
/// train_val files and DIGITS' all-in-one files, V2 (`layer`, type strings)
/// or V1 (`layers`, enum types). Layers are kept when they apply to the
/// TRAIN phase (`include`/`exclude` rules; stages are not set). Input, Data,
/// DummyData, ImageData and MemoryData layers give the input blob and the
/// mean (transform_param mean_value); SoftmaxWithLoss gives the output blob,
/// ignore_label and normalize/normalization; Accuracy and Silence are read
/// and skipped; a trailing Softmax is left out so that the network returns
/// scores. Crop offsets that are not written are derived (coord_map.h).
///
/// Throws c10::Error naming `source`, the line and the layer for a syntax
/// error, an unsupported layer type or option, an unknown bottom, a cycle,
/// or a written crop offset that the geometry contradicts.
models::NetSpec parse_prototxt(
    const std::string& text,
    const std::string& source = "prototxt");

/// parse_prototxt() of a file's content; throws naming `path` when it cannot
/// be read.
models::NetSpec read_prototxt(const std::string& path);

/// The network named by a user: a built-in description (builtin_nets.h) with
/// `num_classes` classes, or else a prototxt file (which has its own).
models::NetSpec network_spec(const std::string& network, int64_t num_classes);

/// `spec` as a V2 prototxt that parse_prototxt() reads back to the same
/// description: an Input layer for the image (and the label, with the mean
/// as transform_param), the layers with their param blocks, fillers and
/// derived crop offsets, and the SoftmaxWithLoss layer.
std::string net_prototxt(const models::NetSpec& spec);

} // namespace caffe
} // namespace fcnlab
