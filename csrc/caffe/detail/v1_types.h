#pragma once

#include "caffe.pb.h"

#include <string>

namespace fcnlab {
namespace caffe {
namespace detail {

/// The V2 type string of a V1 layer enum ("Convolution" for CONVOLUTION);
/// the enum's own name for types without a V2 counterpart here.
std::string v1_type_name(::caffe::V1LayerParameter::LayerType type);

} // namespace detail
} // namespace caffe
} // namespace fcnlab
