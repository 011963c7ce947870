#pragma once

#include <fcnlab/models/fcn_alexnet.h>

#include <cstdint>
#include <string>

namespace fcnlab {
namespace caffe {

/// The deploy network of FCN-Alexnet in Caffe's text format: an Input layer
/// of 1 x 3 x height x width, the shift, the layers of fcn_alexnet_layers()
/// and the Crop to "score". A 3-value mean is written as a 1x1 Convolution
/// named "shift" (identity weights, bias = -mean), since Power shifts all
/// channels alike.
std::string deploy_prototxt(
    const models::FcnAlexNetOptions& options,
    int64_t height = 500,
    int64_t width = 500);

/// Writes deploy_prototxt() to `path` atomically.
void write_deploy_prototxt(
    const models::FcnAlexNetOptions& options,
    const std::string& path,
    int64_t height = 500,
    int64_t width = 500);

/// Writes `model` as a V2 caffemodel: the deploy network with each learned
/// layer's blobs in Caffe layout (weights O x I/group x kH x kW, bias O).
/// Caffe and OpenCV's dnn module read it together with deploy_prototxt().
void save_caffemodel(const models::FcnAlexNet& model, const std::string& path);

} // namespace caffe
} // namespace fcnlab
