#pragma once

#include <string>

namespace fcnlab {
namespace testing {

/// bvlc_alexnet's deploy.prototxt as the model zoo lays it out: an Input
/// layer of 10 x 3 x 227 x 227, norm before pool, fc6..fc8 InnerProduct
/// with param blocks, a final Softmax "prob". With `caffenet_order`,
/// bvlc_reference_caffenet's: pool before norm.
std::string alexnet_deploy(bool caffenet_order, int classes = 1000);

/// VGG_ILSVRC_16_layers_deploy.prototxt: `input_dim` 10 x 3 x 224 x 224,
/// thirteen 3x3 convolutions, five 2x2 max pools, fc6..fc8 InnerProduct,
/// Softmax "prob".
std::string vgg16_deploy(int classes = 1000);

} // namespace testing
} // namespace fcnlab
