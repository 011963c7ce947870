#include <fcnlab/models/fcn_alexnet.h>

namespace fcnlab {
namespace models {
namespace {

template <typename Holder>
Holder child(const torch::nn::Module& module, const char* name) {
  auto found = std::dynamic_pointer_cast<typename Holder::ContainedType>(
      module.named_children()[name]);
  TORCH_CHECK(found, "FCN-Alexnet has no ", name, " of the expected type");
  return Holder(found);
}

} // namespace

FcnAlexNetImpl::FcnAlexNetImpl(FcnAlexNetOptions options)
    : FcnNetImpl(fcn_alexnet_spec(options)), alexnet_options_(options) {
  using torch::nn::Conv2d;
  using torch::nn::MaxPool2d;
  conv1 = child<Conv2d>(*this, "conv1");
  pool1 = child<MaxPool2d>(*this, "pool1");
  norm1 = child<torch::nn::LocalResponseNorm>(*this, "norm1");
  conv2 = child<Conv2d>(*this, "conv2");
  pool2 = child<MaxPool2d>(*this, "pool2");
  norm2 = child<torch::nn::LocalResponseNorm>(*this, "norm2");
  conv3 = child<Conv2d>(*this, "conv3");
  conv4 = child<Conv2d>(*this, "conv4");
  conv5 = child<Conv2d>(*this, "conv5");
  pool5 = child<MaxPool2d>(*this, "pool5");
  fc6 = child<Conv2d>(*this, "fc6");
  drop6 = child<torch::nn::Dropout>(*this, "drop6");
  fc7 = child<Conv2d>(*this, "fc7");
  drop7 = child<torch::nn::Dropout>(*this, "drop7");
  score_fr = child<Conv2d>(*this, "score_fr");
  upscore = child<torch::nn::ConvTranspose2d>(*this, "upscore");
}

std::shared_ptr<FcnNetImpl> FcnAlexNetImpl::make_like() const {
  return std::make_shared<FcnAlexNetImpl>(alexnet_options_);
}

} // namespace models
} // namespace fcnlab
