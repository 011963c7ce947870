#pragma once

#include <fcnlab/models/net_spec.h>

#include <cstdint>
#include <vector>

namespace fcnlab {
namespace models {

struct ConvolutionalizeOptions {
  /// Classes the FCN scores.
  int64_t num_classes = 21;
  /// B, G, R means the FCN subtracts from its input; empty: the
  /// classifier's own, or FCN's ImageNet means (fcn_mean()) when it has
  /// none (a deploy file).
  std::vector<double> mean;
};

/// FCN's "convolutionalization" of an image classifier (a deploy or a
/// train_val description): the classifier's head, from its first layer that
/// reads a whole plane (InnerProduct, Flatten) or pools it to one value
/// (global pooling, or an average whose window covers its input), becomes
/// fully convolutional:
/// - each InnerProduct becomes a Convolution of the same name whose kernel
///   covers its input blob at the declared input size (Alexnet's fc6 6x6,
///   VGG16's 7x7), 1x1 after the first, so its blobs reshape into the
///   kernel;
/// - Flatten, Softmax and the global pooling go;
/// - the final classifier (the last layer with weights before the output)
///   becomes `score_fr` with num_classes outputs, zero-initialised, weights
///   at the solver's rate and biases at twice it without decay, and the
///   layers between it and the output go;
/// - a fixed bilinear Deconvolution `upscore` brings score_fr back to the
///   input stride S, and a Crop `score` aligns it with the input at the
///   derived offset. Its kernel is 2S with one group (FCN's fcn32s), or
///   2S - 1 with one group per class (DIGITS' FCN-Alexnet) where only that
///   gives a whole offset;
/// - when a converted kernel is larger than 1x1, the first Convolution gets
///   FCN's pad 100, so that any input, even 1x1, reaches it.
/// NetSpec::notes lists each change. For bvlc_alexnet (or CaffeNet) this is
/// FCN-Alexnet (crop offset 18), for VGG16 fcn32s (offset 19). Throws
/// c10::Error naming the classifier's layer for a head it cannot convert (a
/// transposed InnerProduct, no classifier before the output, names that
/// score_fr, upscore or score would take).
NetSpec convolutionalize(
    const NetSpec& classifier,
    const ConvolutionalizeOptions& options = {});

} // namespace models
} // namespace fcnlab
