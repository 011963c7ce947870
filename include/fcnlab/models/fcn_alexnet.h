#pragma once

#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/fcn_net.h>

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <memory>

namespace fcnlab {
namespace models {

/// FCN-Alexnet: the generic FcnNet over fcn_alexnet_spec(options) (Alexnet
/// convolutionalized: fc6 as a 6x6 convolution, fc7 as 1x1, a 1x1 class
/// scorer, a fixed bilinear 32x upsampling and a crop back to the input
/// size), with typed handles on its layers. Submodules carry the Caffe
/// layer names, so state_dict keys are conv1.weight ... upscore.weight.
///
/// Input: N x 3 x H x W float, BGR, unscaled 0..255, any H, W >= 1.
/// Output: N x num_classes x H x W class scores (logits).
class FcnAlexNetImpl : public FcnNetImpl {
 public:
  explicit FcnAlexNetImpl(FcnAlexNetOptions options = {});

  /// The options this network was built from.
  const FcnAlexNetOptions& alexnet_options() const {
    return alexnet_options_;
  }

  /// Offset of the crop that aligns upscore with the input, derived from the
  /// layer geometry (18).
  int64_t crop_offset() const {
    return crop_offsets().at("score").first;
  }

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::MaxPool2d pool1{nullptr};
  torch::nn::LocalResponseNorm norm1{nullptr};
  torch::nn::Conv2d conv2{nullptr};
  torch::nn::MaxPool2d pool2{nullptr};
  torch::nn::LocalResponseNorm norm2{nullptr};
  torch::nn::Conv2d conv3{nullptr};
  torch::nn::Conv2d conv4{nullptr};
  torch::nn::Conv2d conv5{nullptr};
  torch::nn::MaxPool2d pool5{nullptr};
  torch::nn::Conv2d fc6{nullptr};
  torch::nn::Dropout drop6{nullptr};
  torch::nn::Conv2d fc7{nullptr};
  torch::nn::Dropout drop7{nullptr};
  torch::nn::Conv2d score_fr{nullptr};
  /// Fixed bilinear upsampling (Caffe lr_mult 0): its weight does not
  /// require grad.
  torch::nn::ConvTranspose2d upscore{nullptr};

 protected:
  std::shared_ptr<FcnNetImpl> make_like() const override;

 private:
  FcnAlexNetOptions alexnet_options_;
};

/// A holder of FcnAlexNetImpl that also converts to the generic FcnNet, so
/// that every tool taking an FcnNet takes an FcnAlexNet.
class FcnAlexNet : public torch::nn::ModuleHolder<FcnAlexNetImpl> {
 public:
  using torch::nn::ModuleHolder<FcnAlexNetImpl>::ModuleHolder;

  /* implicit */ operator FcnNet() const {
    return FcnNet(std::static_pointer_cast<FcnNetImpl>(ptr()));
  }
};

} // namespace models
} // namespace fcnlab
