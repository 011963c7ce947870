#pragma once

#include "caffe.pb.h"

#include <string>
#include <vector>

namespace fcnlab {
namespace caffe {
namespace detail {

/// The V2 type string of a V1 layer enum ("Convolution" for CONVOLUTION);
/// the enum's own name for types without a V2 counterpart.
std::string v1_type_name(::caffe::V1LayerParameter::LayerType type);

/// A V1 layer in the V2 schema: the type string, blobs_lr/weight_decay as
/// param blocks, every type parameter under its V2 field of the same name.
/// No blobs.
::caffe::LayerParameter upgrade_v1_layer(const ::caffe::V1LayerParameter& v1);

/// Caffe's first format, V1 entries that wrap a V0 layer (`layers { layer
/// { name: "conv1" type: "conv" kernelsize: 11 ... } bottom: "data" top:
/// "conv1" }`), upgraded as Caffe upgrades it: the V0 type string becomes
/// the V1 enum, V0's flat fields go to the type's parameter message, blobs
/// and their rates are kept, and "padding" layers are folded into the
/// convolution or pooling that reads them. Entries without a V0 layer come
/// back unchanged. `origin`, when given, receives each result's index in
/// `layers`. Throws c10::Error starting with `source` and naming the layer
/// for a V0 type Caffe does not know, a field that does not belong to the
/// type, or a padding layer that feeds anything else.
google::protobuf::RepeatedPtrField<::caffe::V1LayerParameter> upgrade_v0_layers(
    const google::protobuf::RepeatedPtrField<::caffe::V1LayerParameter>& layers,
    const std::string& source,
    std::vector<int>* origin = nullptr);

} // namespace detail
} // namespace caffe
} // namespace fcnlab
