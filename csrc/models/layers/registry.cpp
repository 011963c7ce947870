// The one list of layer types: each entry's definition lives in its own
// file of this folder. Adding a type: its LayerType, its file, one line
// here (in the enum's order; layer_def() checks the order on first use).
#include "layer_def.h"

#include <c10/util/Exception.h>

#include <array>
#include <cstring>

namespace fcnlab {
namespace models {
namespace layers {

LayerDef convolution_layer();
LayerDef deconvolution_layer();
LayerDef pooling_layer();
LayerDef lrn_layer();
LayerDef relu_layer();
LayerDef dropout_layer();
LayerDef power_layer();
LayerDef crop_layer();
LayerDef eltwise_layer();
LayerDef scale_layer();
LayerDef concat_layer();
LayerDef softmax_layer();
LayerDef inner_product_layer();
LayerDef batch_norm_layer();
LayerDef flatten_layer();

namespace {

using Registry = std::array<LayerDef, static_cast<size_t>(LayerType::kCount)>;

Registry make_registry() {
  Registry registry{
      convolution_layer(),
      deconvolution_layer(),
      pooling_layer(),
      lrn_layer(),
      relu_layer(),
      dropout_layer(),
      power_layer(),
      crop_layer(),
      eltwise_layer(),
      scale_layer(),
      concat_layer(),
      softmax_layer(),
      inner_product_layer(),
      batch_norm_layer(),
      flatten_layer(),
  };
  for (size_t i = 0; i < registry.size(); ++i) {
    const LayerDef& def = registry[i];
    // A slot left out stays value-initialised: no name, no forward.
    TORCH_INTERNAL_ASSERT(
        def.caffe_name && def.forward && def.to_onnx &&
            static_cast<size_t>(def.type) == i,
        "layer registry: entry ",
        i,
        " is missing or out of the LayerType order");
  }
  return registry;
}

const Registry& registry() {
  static const Registry instance = make_registry();
  return instance;
}

} // namespace

const LayerDef& layer_def(LayerType type) {
  const auto index = static_cast<size_t>(type);
  TORCH_CHECK(
      index < registry().size(), "unknown layer type ", static_cast<int>(type));
  return registry()[index];
}

const LayerDef* find_layer_def(const std::string& caffe_name) {
  for (const LayerDef& def : registry()) {
    if (caffe_name == def.caffe_name) {
      return &def;
    }
  }
  return nullptr;
}

} // namespace layers
} // namespace models
} // namespace fcnlab
