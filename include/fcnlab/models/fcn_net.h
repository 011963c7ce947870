#pragma once

#include <fcnlab/models/net_spec.h>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace fcnlab {
namespace models {

/// Options of FcnNet: the network description it runs.
struct FcnNetOptions {
  /* implicit */ FcnNetOptions(NetSpec spec) : spec_(std::move(spec)) {}

  /// Layers, input mean, output blob and loss settings (builtin_nets.h,
  /// caffe/prototxt.h).
  TORCH_ARG(NetSpec, spec);
};

/// A parameter with the multipliers its layer's `param {}` block gives it
/// (the one type for "a parameter and its multipliers": the solvers take
/// these too).
struct NamedParameter {
  std::string name; ///< "score_fr.bias"
  torch::Tensor tensor;
  ParamRule rule;
};

namespace detail {
class WeightCache;
} // namespace detail
namespace layers {
struct LayerRun;
} // namespace layers

/// Any fully convolutional network described as Caffe layers, run by
/// LibTorch. Submodules carry the Caffe layer names (conv1, fc6, score_fr,
/// upscore, ...): Convolution -> Conv2d, Deconvolution -> ConvTranspose2d,
/// Pooling -> MaxPool2d/AvgPool2d, LRN -> LocalResponseNorm, Dropout ->
/// Dropout, Scale -> Scale (layers/scale.h); the other types have no
/// parameters and run as functions.
///
/// Parameters start from their fillers (Caffe's default: zero); a
/// Deconvolution with lr_mult 0 and no filler is FCN's fixed bilinear
/// upsampling. Parameters with lr_mult 0 do not require grad.
///
/// Input: N x 3 x H x W float, BGR, unscaled 0..255.
/// Output: N x num_classes x H x W class scores (the spec's output blob).
class FcnNetImpl : public torch::nn::Module {
 public:
  /// Computes layer `index`'s output (spec().layers[index]) from its
  /// bottoms, in order: run_layers() hands every layer to one.
  using LayerCall = std::function<
      torch::Tensor(size_t index, const std::vector<torch::Tensor>& bottoms)>;

  /// Builds the network; throws c10::Error naming the layer when the
  /// description is invalid (see validate() and resolve_crop_offsets()).
  explicit FcnNetImpl(FcnNetOptions options);

  /// A deep copy on `device` (or this one's), in the same mode, with the
  /// same frozen parameters.
  std::shared_ptr<torch::nn::Module> clone(
      const c10::optional<torch::Device>& device = c10::nullopt) const override;

  /// Class scores for a batch of BGR images; throws c10::Error for an input
  /// that is not N x 3 x H x W floating point, or too small for a crop.
  ///
  /// On CPU, per layer type: inference (no grad) keeps oneDNN-layout copies
  /// of convolution weights until they change; training runs unpadded,
  /// stride-1 convolutions (fc6, fc7, scorers) as BLAS GEMMs; LRN sums its
  /// window from shifted slices; a fixed bilinear deconvolution is computed
  /// separably, together with the Crop that follows it. trace() runs the
  /// plain layers and is the reference these must match.
  torch::Tensor forward(const torch::Tensor& bgr);

  /// Switches training mode; entering it frees the packed inference
  /// weights, which the next inference pass rebuilds from the new weights.
  void train(bool on = true) override;

  /// Runs the network and returns every layer's output by Caffe layer name,
  /// in order (the output blob's producer, usually "score", comes last).
  std::vector<std::pair<std::string, torch::Tensor>> trace(
      const torch::Tensor& bgr);

  /// Runs the network with each layer's output computed by `call`, which
  /// may run forward_layer(), watch it, or put something else in its place
  /// (how Python's hooks and replaced layers take part). The input checks,
  /// the mean subtraction and the wiring of blobs are forward()'s.
  torch::Tensor run_layers(const torch::Tensor& bgr, const LayerCall& call);

  /// Layer `index` alone, through its plain module (no fused or packed fast
  /// path), on its bottoms. Throws c10::IndexError for an index past the
  /// layers and c10::ValueError for the wrong number of bottoms.
  torch::Tensor forward_layer(
      size_t index,
      const std::vector<torch::Tensor>& bottoms);

  const NetSpec& spec() const {
    return options.spec();
  }
  /// Channels of the output.
  int64_t num_classes() const {
    return num_classes_;
  }
  /// Derived (height, width) offset of each Crop layer.
  const std::map<std::string, std::pair<int64_t, int64_t>>& crop_offsets()
      const {
    return crop_offsets_;
  }

  /// Where the parameters live (CPU for a network without any).
  torch::Device device() const;

  /// Every parameter with its layer's multipliers, in registration order.
  std::vector<NamedParameter> layer_parameters() const;

  /// Number of elements in parameters that training updates.
  int64_t num_learnable_parameters() const;

  /// Copies `state` (one tensor for each name of named_parameters(), of the
  /// same shape) into the parameters, as PyTorch's load_state_dict does.
  /// Throws c10::ValueError naming the entry that is missing, extra or of
  /// another shape, before anything is copied.
  void load_parameters(const std::map<std::string, torch::Tensor>& state);

  FcnNetOptions options;

 protected:
  /// A new network of the same class and options (for clone()).
  virtual std::shared_ptr<FcnNetImpl> make_like() const;

 private:
  /// Creates every submodule and fills its parameters (once).
  void build();
  /// forward() when `call` is null, else run_layers().
  torch::Tensor run(const torch::Tensor& bgr, const LayerCall* call);
  /// What forward_layer() runs, with the run's fast-path settings.
  layers::LayerRun layer_run(size_t index, bool fast, bool may_overwrite);

  int64_t num_classes_ = 0;
  std::map<std::string, std::pair<int64_t, int64_t>> crop_offsets_;
  /// modules_[i]: the submodule of spec().layers[i], or null.
  std::vector<std::shared_ptr<torch::nn::Module>> modules_;
  /// fused_crop_[i]: index of the Crop that consumes Deconvolution i's
  /// output alone (folded into a separable upsampling), or -1.
  std::vector<int64_t> fused_crop_;
  /// release_after_[i]: blobs no layer after i reads, freed once layer i ran
  /// (the output excepted).
  std::vector<std::vector<std::string>> release_after_;
  /// overwritable_in_place_[i]: layer i (a ReLU in place over a
  /// convolution's own output) may overwrite its bottom when no gradient
  /// needs it.
  std::vector<bool> overwritable_in_place_;
  std::shared_ptr<detail::WeightCache> weight_cache_;
};

TORCH_MODULE(FcnNet);

} // namespace models
} // namespace fcnlab
