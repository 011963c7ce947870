#pragma once

#include <fcnlab/models/crop.h>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
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

/// Caffe layer types that FCN-Alexnet is made of.
enum class LayerType {
  kPower,
  kConvolution,
  kReLU,
  kPooling,
  kLRN,
  kDropout,
  kDeconvolution,
  kCrop,
};

/// Caffe's name of a layer type ("Convolution", "LRN", ...).
const char* caffe_type_name(LayerType type);

/// One layer of the network as Caffe describes it. Pooling is max pooling
/// with Caffe's ceil rounding; ReLU and dropout work in place on `bottom`.
struct FcnAlexNetLayer {
  std::string name;
  LayerType type;
  std::string bottom;
  std::string top;
  int64_t in_channels = 0;  ///< convolutions only
  int64_t out_channels = 0; ///< convolutions only
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t pad = 0;
  int64_t groups = 1;
  bool bias = true;

  /// The spatial geometry of this layer, for coordinate maps.
  LayerGeometry geometry() const;
};

/// The layers of FCN-Alexnet in execution order, from the input shift to the
/// final crop: the single description that the module, its summary, the crop
/// offset and the Caffe exporter are built from.
std::vector<FcnAlexNetLayer> fcn_alexnet_layers(
    const FcnAlexNetOptions& options);

/// The crop offset of a layer table: the layers before the Crop composed into
/// a coordinate map (see crop.h).
int64_t crop_offset(const std::vector<FcnAlexNetLayer>& layers);

namespace detail {
class WeightCache;
} // namespace detail

/// FCN-Alexnet: Alexnet convolutionalized (fc6 as a 6x6 convolution, fc7 as
/// 1x1), a 1x1 class scorer, a fixed bilinear 32x upsampling and a crop back
/// to the input size. Submodules carry the Caffe layer names.
///
/// Input: N x 3 x H x W float, BGR, unscaled 0..255, any H, W >= 1.
/// Output: N x num_classes x H x W class scores (logits).
class FcnAlexNetImpl : public torch::nn::Cloneable<FcnAlexNetImpl> {
 public:
  /// Receives the name and output of each layer as the network runs.
  using LayerObserver =
      std::function<void(const std::string&, const torch::Tensor&)>;

  explicit FcnAlexNetImpl(FcnAlexNetOptions options_ = {});

  /// (Re)creates every submodule: He-normal conv1..conv5 (conv1 divided by
  /// kInputScale), Gaussian fc6/fc7 (kFullyConnectedStd), zero biases, a
  /// zero score_fr (as FCN does) and the bilinear upscore kernel.
  void reset() override;

  /// A deep copy; keeps upscore frozen (LibTorch's clone re-creates each
  /// child, which would make its weight trainable again).
  std::shared_ptr<torch::nn::Module> clone(
      const c10::optional<torch::Device>& device = c10::nullopt) const override;

  /// Class scores for a batch of BGR images; throws c10::Error for an input
  /// that is not N x 3 x H x W floating point.
  ///
  /// On CPU, inference (no grad) keeps oneDNN-layout copies of the weights
  /// until they change, training runs fc6, fc7 and score_fr as BLAS GEMMs;
  /// LRN sums its window from shifted slices, and a bilinear upscore is
  /// computed separably together with the crop.
  /// trace() runs the plain layers and is the reference these must match.
  torch::Tensor forward(const torch::Tensor& bgr);

  /// Switches training mode; entering it frees the packed inference
  /// weights, which the next inference pass rebuilds from the new weights.
  void train(bool on = true) override;

  /// Runs the network and returns every layer's output by Caffe layer name,
  /// in order (the last is "score", equal to forward()).
  std::vector<std::pair<std::string, torch::Tensor>> trace(
      const torch::Tensor& bgr);

  /// Offset of the crop that aligns upscore with the input, derived from the
  /// layer geometry (18 for this network).
  int64_t crop_offset() const {
    return crop_offset_;
  }

  /// The layer table this module was built from.
  const std::vector<FcnAlexNetLayer>& layers() const {
    return layers_;
  }

  /// Number of elements in parameters that training updates.
  int64_t num_learnable_parameters() const;

  FcnAlexNetOptions options;

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

 private:
  torch::Tensor run(const torch::Tensor& bgr, const LayerObserver& observe);
  /// Throws unless an upscored_h x upscored_w map covers the crop.
  void check_crop(
      int64_t upscored_h,
      int64_t upscored_w,
      int64_t height,
      int64_t width) const;

  std::vector<FcnAlexNetLayer> layers_;
  /// steps_[i] runs layers_[i]; empty for the shift and the crop.
  std::vector<torch::nn::AnyModule> steps_;
  int64_t crop_offset_ = 0;
  std::shared_ptr<detail::WeightCache> weight_cache_;
};

TORCH_MODULE(FcnAlexNet);

} // namespace models
} // namespace fcnlab
