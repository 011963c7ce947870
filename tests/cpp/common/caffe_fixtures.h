#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace fcnlab {
namespace testing {

/// Weights of a randomly initialised ImageNet Alexnet in Caffe layout:
/// "conv1" ... "fc8" -> {weight, bias}; fc6..fc8 weights are 2-D (O x I).
using AlexnetBlobs = std::map<std::string, std::vector<at::Tensor>>;

/// Random Alexnet weights (He-normal, small random biases).
AlexnetBlobs random_alexnet(uint64_t seed);

/// Writes `blobs` as bvlc_alexnet.caffemodel is stored: V1 `layers` with
/// enum types, legacy 4-D dims (fc6 1x1x4096x9216), AlexNet's
/// conv -> relu -> norm -> pool order, and fc8.
void write_alexnet_v1(const AlexnetBlobs& blobs, const std::string& path);

/// Random VGG16 weights ("conv1_1" ... "conv5_3", "fc6" 4096x25088, "fc7",
/// "fc8"), He-normal with small random biases.
AlexnetBlobs random_vgg16(uint64_t seed);

/// Writes `blobs` in the V1 layout of VGG_ILSVRC_16_layers: `layers` with
/// enum types, legacy 4-D dims (fc6 1x1x4096x25088), relu/pool/dropout
/// layers between, fc8 and prob.
void write_vgg16_v1(const AlexnetBlobs& blobs, const std::string& path);

/// The message of the exception `action` throws, "(no exception)" if none;
/// tests pin error messages by substring.
std::string error_message_of(const std::function<void()>& action);

} // namespace testing
} // namespace fcnlab
