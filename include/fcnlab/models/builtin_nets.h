#pragma once

#include <fcnlab/models/net_spec.h>

#include <torch/arg.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fcnlab {
namespace models {

/// Options of FCN-Alexnet (the DIGITS `fcn_alexnet.prototxt` network).
struct FcnAlexNetOptions {
  /* implicit */ FcnAlexNetOptions(int64_t num_classes = 21)
      : num_classes_(num_classes) {}

  /// Number of output classes (21 for PASCAL VOC: background + 20).
  TORCH_ARG(int64_t, num_classes);
  /// Subtracted from the BGR input: one value for all channels (DIGITS'
  /// Power layer, shift -116) or three per-channel means in B, G, R order
  /// (the FCN reference: 104.00699, 116.66877, 122.67892).
  TORCH_ARG(std::vector<double>, mean) = {116.0};
  /// Probability of zeroing an element in drop6 and drop7 while training.
  TORCH_ARG(double, dropout) = 0.5;
};

/// LRN constants shared by norm1 and norm2 (CaffeNet's).
constexpr int64_t kLrnSize = 5;
constexpr double kLrnAlpha = 1e-4;
constexpr double kLrnBeta = 0.75;
constexpr double kLrnK = 1.0;

/// Typical standard deviation of shifted BGR pixels (0..255 minus the mean),
/// used to scale conv1's initial weights.
constexpr double kInputScale = 64.0;

/// Standard deviation of fc6/fc7's initial Gaussian weights (CaffeNet's).
constexpr double kFullyConnectedStd = 0.005;

/// The FCN reference's BGR means (ImageNet's, in VGG16's training order).
const std::vector<double>& fcn_mean();

/// FCN-Alexnet as DIGITS' prototxt describes it: the Power shift (or the
/// per-channel mean as the input's transform), conv1..fc7 with pool -> norm
/// order, score_fr (bias lr x2, no decay, zero start), the fixed bilinear
/// upscore (kernel 63, stride 32, one group per class) and the crop, whose
/// offset (18) is derived, not written. conv1..conv5 start He-normal (conv1
/// divided by kInputScale), fc6/fc7 Gaussian (kFullyConnectedStd). Throws
/// c10::ValueError for num_classes < 1, a mean of other than 1 or 3 values,
/// or dropout outside [0, 1).
NetSpec fcn_alexnet_spec(const FcnAlexNetOptions& options = {});

/// The FCN paper's VGG16 nets, as the FCN reference's net.py builds them:
/// "fcn32s", "fcn16s", "fcn8s" or "fcn8s_atonce" (skip inputs scaled by
/// fixed 0.01 / 0.0001). Loss summed over pixels (normalize: false), FCN's
/// BGR means, fixed bilinear deconvolutions, zero-initialised scorers; the
/// VGG16 trunk starts He-normal (the reference copies ImageNet weights in,
/// see caffe/importer.h). Throws c10::ValueError for another name or
/// num_classes < 1.
NetSpec fcn_vgg16_spec(const std::string& variant, int64_t num_classes = 21);

/// The input side of the ImageNet Alexnet (bvlc_alexnet): 227 pixels make
/// pool5 6x6, the size of fc6's window.
constexpr int64_t kAlexnetInputSide = 227;

/// The classifier Alexnet of bvlc_alexnet with `num_classes` outputs: its
/// layer names and order (conv -> relu -> norm -> pool), shapes and groups,
/// weights at lr 1 / decay 1 and biases at lr 2 / decay 0, dropout 0.5.
/// fc6 (a 6x6 kernel), fc7 and fc8 are convolutions, which on a 227x227
/// input compute exactly bvlc_alexnet's InnerProduct layers: the output
/// "fc8" is N x num_classes x 1 x 1. The input is shifted by DIGITS' 116,
/// as FCN-Alexnet's is, so that its weights carry over by net surgery.
/// Throws c10::ValueError for num_classes < 1.
NetSpec alexnet_classifier_spec(int64_t num_classes);

/// The names builtin_net() accepts: fcn_alexnet, fcn32s, fcn16s, fcn8s,
/// fcn8s_atonce.
std::vector<std::string> builtin_net_names();

/// A built-in description by name, with `num_classes` classes. Throws
/// c10::ValueError naming the known ones for another name.
NetSpec builtin_net(const std::string& name, int64_t num_classes = 21);

} // namespace models
} // namespace fcnlab
