#pragma once

#include <fcnlab/models/net_spec.h>

#include "caffe.pb.h"

#include <string>

namespace fcnlab {
namespace caffe {
namespace detail {

/// Writes `layer` into `out` as Caffe's V2 schema describes it: name, type,
/// bottoms, tops, param blocks and the parameters of its type (defaults
/// left out). No blobs.
void describe_layer(
    const models::LayerSpec& layer,
    ::caffe::LayerParameter* out);

/// The LayerSpec of a graph layer of type `type`. `where` ("net.prototxt:12:
/// layer conv1") starts the c10::Error thrown for an option fcnlab does not
/// run (STOCHASTIC pooling, WITHIN_CHANNEL LRN, a Scale with two bottoms).
models::LayerSpec read_layer(
    const ::caffe::LayerParameter& proto,
    models::LayerType type,
    const std::string& where);

/// Appends an Input layer named "input" with `top` to `net`.
::caffe::LayerParameter* add_input_layer(
    ::caffe::NetParameter& net,
    const std::string& top);

} // namespace detail
} // namespace caffe
} // namespace fcnlab
