#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fcnlab {
namespace models {

/// The Caffe layer types a network description may contain (besides its
/// input, data and loss layers, which the prototxt reader consumes). Each
/// has its definition in csrc/models/layers/ (ARCHITECTURE.md).
enum class LayerType {
  kConvolution,
  kDeconvolution,
  kPooling,
  kLRN,
  kReLU,
  kDropout,
  kPower,
  kCrop,
  kEltwise,
  kScale,
  kConcat,
  kSoftmax,
  kInnerProduct,
  kBatchNorm,
  kFlatten,
  /// The number of types above, not a type.
  kCount,
};

/// Caffe's name of a layer type ("Convolution", "LRN", ...).
const char* caffe_type_name(LayerType type);

/// Every type fcnlab runs, in LayerType order.
std::vector<LayerType> layer_types();

/// The LayerType named `name` (Caffe's V2 spelling), or nullopt.
std::optional<LayerType> layer_type_from_name(const std::string& name);

/// Caffe's FillerParameter: how a parameter starts before any training.
struct Filler {
  /// constant, gaussian, uniform, xavier, msra or bilinear.
  std::string type = "constant";
  double value = 0;
  double mean = 0;
  double std = 1;
  double min = 0;
  double max = 1;
  /// xavier and msra: FAN_IN, FAN_OUT or AVERAGE.
  std::string variance_norm = "FAN_IN";
};

/// Caffe's ParamSpec: multipliers of the solver's rate and decay for one
/// parameter blob of a layer (weights first, then bias).
struct ParamRule {
  double lr_mult = 1.0;
  double decay_mult = 1.0;
};

/// A sliding window over height and width (convolution, pooling).
struct Window {
  int64_t kernel_h = 1;
  int64_t kernel_w = 1;
  int64_t stride_h = 1;
  int64_t stride_w = 1;
  int64_t pad_h = 0;
  int64_t pad_w = 0;
  int64_t dilation_h = 1;
  int64_t dilation_w = 1;
};

struct ConvolutionParams {
  int64_t num_output = 0;
  Window window;
  int64_t group = 1;
  bool bias_term = true;
  /// Unset means Caffe's default (constant 0); a Deconvolution whose weights
  /// are fixed (lr_mult 0) and unset is filled bilinearly, as FCN does.
  std::optional<Filler> weight_filler;
  Filler bias_filler;
};

enum class PoolMethod { kMax, kAverage };

struct PoolingParams {
  PoolMethod method = PoolMethod::kMax;
  Window window;
  /// Pool over the whole input (kernel = input size).
  bool global = false;
  /// Caffe's default rounding of pooled sizes is up.
  bool ceil_mode = true;
};

struct LrnParams {
  int64_t local_size = 5;
  double alpha = 1.0;
  double beta = 0.75;
  double k = 1.0;
};

/// y = (shift + scale * x) ^ power.
struct PowerParams {
  double power = 1.0;
  double scale = 1.0;
  double shift = 0.0;
};

/// Crops bottom[0] to the size of bottom[1] from `axis` on.
struct CropParams {
  int64_t axis = 2;
  /// One offset for every cropped axis, or one per axis; empty when the
  /// offsets are to be derived from the graph (see coord_map.h).
  std::vector<int64_t> offsets;
};

enum class EltwiseOp { kProduct, kSum, kMax };

struct EltwiseParams {
  EltwiseOp operation = EltwiseOp::kSum;
  /// SUM only: one coefficient per bottom (all 1 when empty).
  std::vector<double> coefficients;
};

/// A per-channel multiplier (axis 1, num_axes 1) learned or fixed.
struct ScaleParams {
  int64_t axis = 1;
  int64_t num_axes = 1;
  Filler filler = Filler{"constant", /*value=*/1.0};
  bool bias_term = false;
  Filler bias_filler;
};

/// Caffe's InnerProduct over axis 1: every value of an item (C x H x W in
/// C, H, W order) to num_output values, kept as N x num_output x 1 x 1.
struct InnerProductParams {
  int64_t num_output = 0;
  bool bias_term = true;
  /// Weights stored K x num_output instead of num_output x K.
  bool transpose = false;
  Filler weight_filler;
  Filler bias_filler;
};

/// Caffe's BatchNorm: normalizes each channel by a mean and variance, with
/// no scale or shift of its own (a Scale layer follows). Its three blobs
/// (running sums of the mean and variance and their weight) are never
/// learned by the solver.
struct BatchNormParams {
  /// Normalize with the stored statistics; unset means Caffe's default:
  /// stored in evaluation, the batch's in training.
  std::optional<bool> use_global_stats;
  double moving_average_fraction = 0.999;
  double eps = 1e-5;
};

/// One layer as Caffe describes it. Only the parameters of its type matter.
struct LayerSpec {
  std::string name;
  LayerType type = LayerType::kReLU;
  std::vector<std::string> bottoms;
  std::vector<std::string> tops;
  /// `param {}` blocks, in blob order; missing ones mean lr_mult 1,
  /// decay_mult 1 (Caffe's defaults).
  std::vector<ParamRule> params;
  /// Line of the layer in its prototxt (0 for built-in descriptions).
  int line = 0;

  ConvolutionParams convolution; ///< Convolution, Deconvolution
  PoolingParams pooling;
  LrnParams lrn;
  double negative_slope = 0;  ///< ReLU
  double dropout_ratio = 0.5; ///< Dropout
  PowerParams power;
  CropParams crop;
  EltwiseParams eltwise;
  ScaleParams scale;
  int64_t concat_axis = 1;
  int64_t softmax_axis = 1;
  InnerProductParams inner_product;
  BatchNormParams batch_norm;

  /// The multipliers of parameter blob `index` (defaults when absent).
  ParamRule param(size_t index) const;
};

/// SoftmaxWithLoss settings read from a description (not run by the graph).
struct LossSpec {
  int64_t ignore_label = 255;
  /// true: averaged over non-ignored pixels (Caffe's VALID, DIGITS'
  /// normalize: true); false: summed over them and divided by the batch
  /// size (normalize: false, the FCN reference's VGG nets).
  bool normalize = true;
};

/// A network as data: Caffe layers in execution order, from the input blob
/// to the score blob. Built-in descriptions come from builtin_nets.h,
/// prototxt files through caffe/prototxt.h.
struct NetSpec {
  std::string name;
  /// Where the description came from, for error messages ("fcn8s",
  /// "net.prototxt").
  std::string source;
  /// The image blob: N x 3 x H x W BGR.
  std::string input = "data";
  /// The input size the description declares (an Input layer's shape,
  /// input_dim or input_shape, a data layer's crop_size); 0 when it
  /// declares none. Layers that read a whole plane at once (InnerProduct,
  /// Flatten) count their inputs at this size and run only at it.
  int64_t input_height = 0;
  int64_t input_width = 0;
  /// Subtracted from the input before the first layer, one value for every
  /// channel or one per channel in B, G, R order (Caffe's transform_param
  /// mean_value); empty when the network subtracts its own (a Power layer).
  std::vector<double> mean;
  std::vector<LayerSpec> layers;
  /// The blob forward() returns: class scores at the input's size.
  std::string output = "score";
  LossSpec loss;
  /// What reading the description set aside, one line each, for summary:
  /// a Python data layer's settings, the layers a choice of loss pruned.
  std::vector<std::string> notes;

  /// The layer called `name`, or nullptr.
  const LayerSpec* find(const std::string& name) const;
  /// "net.prototxt:12: layer conv1" or "fcn8s: layer conv1".
  std::string where(const LayerSpec& layer) const;
};

/// Channels flowing through a description: what each layer reads on its
/// first bottom and writes to its top (in layer order), and what the output
/// blob carries. A layer that reads a whole plane at once (InnerProduct,
/// Flatten) reads C x H x W values at the declared input size, and writes
/// them as channels of a 1 x 1 plane.
struct ChannelFlow {
  std::vector<int64_t> layer_inputs;
  std::vector<int64_t> layer_outputs;
  int64_t output = 0;
};

/// The channels of `spec` (the input has 3). Throws c10::Error, naming the
/// source, the layer and its line, for an unknown bottom, a cycle, a wrong
/// number of bottoms, channels that do not fit (groups, Eltwise, Crop), a
/// layer reading a whole plane without a declared input size (or with no
/// plane left at it), or a missing output blob.
ChannelFlow infer_channels(const NetSpec& spec);

/// Checks `spec` as infer_channels does.
void validate(const NetSpec& spec);

/// The number of classes `spec` scores (the channels of its output), after
/// the checks of validate().
int64_t num_classes(const NetSpec& spec);

/// Element counts of a layer's parameter blobs in Caffe's order (weights,
/// then bias), given its input channels; empty for layers without
/// parameters. Saturates at INT64_MAX instead of overflowing.
std::vector<int64_t> parameter_sizes(
    const LayerSpec& layer,
    int64_t in_channels);

/// Parameters of the whole network (after validate()), computed from the
/// description without allocating them; saturates at INT64_MAX.
int64_t parameter_count(const NetSpec& spec);

} // namespace models
} // namespace fcnlab
