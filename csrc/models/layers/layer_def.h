#pragma once

#include <fcnlab/models/coord_map.h>
#include <fcnlab/models/net_spec.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace caffe {
class LayerParameter;
} // namespace caffe
namespace at {
class Tensor;
} // namespace at
namespace torch {
namespace nn {
class Module;
} // namespace nn
} // namespace torch

namespace fcnlab {
namespace models {
namespace layers {

struct LayerRun;
struct OnnxLayer;

/// The height and width of a blob.
struct PlaneSize {
  int64_t height = 0;
  int64_t width = 0;
};

/// Everything fcnlab knows about one Caffe layer type. Each type defines its
/// own in csrc/models/layers/<type>.cpp, listed once in registry.cpp; the
/// interpreter (fcn_net.cpp), the checks (net_spec.cpp), the coordinate maps
/// and the prototxt reader and writer ask the definition instead of
/// switching on the type. Null functions mean the most common answer, as
/// each says.
struct LayerDef {
  LayerType type;
  /// Caffe's V2 name of the type ("Convolution").
  const char* caffe_name;
  size_t min_bottoms = 1;
  size_t max_bottoms = 1;

  /// Reads the type's own parameters into `layer` (name, bottoms, tops and
  /// param blocks are read already); throws c10::Error starting with
  /// `where` for an option fcnlab does not run. Null: none to read.
  void (*read)(
      const ::caffe::LayerParameter& proto,
      LayerSpec& layer,
      const std::string& where) = nullptr;
  /// Writes what read() reads back to the same LayerSpec, leaving Caffe's
  /// defaults out. Null: none to write.
  void (*write)(const LayerSpec& layer, ::caffe::LayerParameter* out) = nullptr;

  /// Channels of the top from those of the bottoms, checking that they fit
  /// (throws naming spec.where(layer)). Null: those of the first bottom.
  int64_t (*out_channels)(
      const NetSpec& spec,
      const LayerSpec& layer,
      const std::vector<int64_t>& in) = nullptr;
  /// Element counts of the parameter blobs in Caffe's order (weights, then
  /// bias), given the input channels; saturates at INT64_MAX. Null: none.
  std::vector<int64_t> (
      *parameter_sizes)(const LayerSpec& layer, int64_t in_channels) = nullptr;
  /// How the layer maps positions along height (axis 0) or width (1).
  /// Null: each position to itself.
  LayerGeometry (*geometry)(const LayerSpec& layer, int axis) = nullptr;
  /// Height and width of the top given those of the bottoms (a Crop's
  /// second bottom is its reference); 0 where no window fits. Null: those
  /// of the first bottom.
  PlaneSize (*output_size)(
      const LayerSpec& layer,
      const std::vector<PlaneSize>& in) = nullptr;
  /// Floating-point operations of one forward pass (a multiply-add counts
  /// 2), given the first bottom's and the top's size and the element count
  /// of the weights. Null: none counted.
  double (*flops)(PlaneSize in, PlaneSize out, int64_t weights) = nullptr;

  /// The submodule that holds the layer's parameters (named "weight" and
  /// "bias", in blob order), filled as its fillers say; null for a layer
  /// that runs as a function. Null: always a function.
  std::shared_ptr<torch::nn::Module> (*make_module)(
      const LayerSpec& layer,
      int64_t in_channels,
      const std::string& where) = nullptr;
  /// Computes the top (see LayerRun for what a fast path may do).
  at::Tensor (*forward)(LayerRun& run) = nullptr;
  /// Writes the layer as ONNX nodes computing what forward() computes in
  /// evaluation mode; returns the ONNX value of the top (OnnxLayer::top,
  /// or a bottom for a layer that deploys as nothing). Throws c10::Error
  /// starting with the layer's place for options no runtime runs alike.
  std::string (*to_onnx)(const OnnxLayer& layer) = nullptr;

  /// The layer reads each item's whole C x H x W at once (InnerProduct,
  /// Flatten): its input count (ChannelFlow) is that product at the
  /// declared input size, its top a 1 x 1 plane that no coordinate map
  /// passes through.
  bool reads_whole_plane = false;

  /// Aliasing, for overwriting blobs that no gradient needs: the top is a
  /// new tensor that nothing else refers to (a convolution's output).
  bool fresh_output = false;
  /// Whether the layer, written in place (top == bottom), may overwrite its
  /// bottom when LayerRun::may_overwrite says so; a layer in place with this
  /// set leaves its blob as fresh as it was. Null: never overwrites.
  bool (*can_overwrite)(const LayerSpec& layer) = nullptr;

  /// Graph rewrites: a layer that `folds_next_crop` may compute only the
  /// part of its top that a following layer for which `folds_into_producer`
  /// holds would keep (a Deconvolution and the Crop after it), when that
  /// layer alone reads the top (LayerRun::crop_to_fold).
  bool folds_next_crop = false;
  bool (*folds_into_producer)(const LayerSpec& layer) = nullptr;
};

/// The definition of `type`.
const LayerDef& layer_def(LayerType type);

/// The definition whose Caffe name is `caffe_name`, or nullptr.
const LayerDef* find_layer_def(const std::string& caffe_name);

} // namespace layers
} // namespace models
} // namespace fcnlab
