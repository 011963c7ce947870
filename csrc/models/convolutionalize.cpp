#include <fcnlab/models/convolutionalize.h>

#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/crop.h>
#include <fcnlab/models/summary.h>

#include "layers/layer_def.h"

#include <c10/util/Exception.h>

#include <cmath>
#include <map>
#include <set>

namespace fcnlab {
namespace models {
namespace {

using layers::PlaneSize;

// Each blob's plane at the classifier's declared input size.
std::map<std::string, PlaneSize> plane_sizes(const NetSpec& spec) {
  const auto [height, width] = default_input_size(spec);
  const auto summary = summarize(spec, height, width);
  std::map<std::string, PlaneSize> planes{{spec.input, {height, width}}};
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const auto& shape = summary.layers[i].output_shape;
    planes[spec.layers[i].tops[0]] = {shape[1], shape[2]};
  }
  return planes;
}

// A pooling that leaves one value per channel: global, or an average whose
// window covers its whole input (GoogLeNet's pool5/7x7_s1).
bool pools_to_one_value(
    const LayerSpec& layer,
    const std::map<std::string, PlaneSize>& planes) {
  if (layer.type != LayerType::kPooling) {
    return false;
  }
  if (layer.pooling.global) {
    return true;
  }
  const PlaneSize in = planes.at(layer.bottoms[0]);
  const Window& w = layer.pooling.window;
  return layer.pooling.method == PoolMethod::kAverage &&
      w.kernel_h >= in.height + 2 * w.pad_h &&
      w.kernel_w >= in.width + 2 * w.pad_w;
}

bool starts_head(
    const LayerSpec& layer,
    const std::map<std::string, PlaneSize>& planes) {
  return layers::layer_def(layer.type).reads_whole_plane ||
      pools_to_one_value(layer, planes);
}

// An InnerProduct as the Convolution whose kernel covers its input plane.
LayerSpec as_convolution(
    const LayerSpec& layer,
    PlaneSize in,
    const NetSpec& spec) {
  const auto& ip = layer.inner_product;
  TORCH_CHECK(
      !ip.transpose,
      spec.where(layer),
      ": a transposed InnerProduct (weights K x N) does not reshape into a "
      "convolution kernel");
  LayerSpec conv = layer;
  conv.type = LayerType::kConvolution;
  conv.convolution = ConvolutionParams{};
  conv.convolution.num_output = ip.num_output;
  conv.convolution.window.kernel_h = in.height;
  conv.convolution.window.kernel_w = in.width;
  conv.convolution.bias_term = ip.bias_term;
  conv.convolution.weight_filler = ip.weight_filler;
  conv.convolution.bias_filler = ip.bias_filler;
  conv.inner_product = InnerProductParams{};
  return conv;
}

std::string size_text(PlaneSize size) {
  return std::to_string(size.height) + "x" + std::to_string(size.width);
}

// FCN's scorer: zero-initialised, biases at twice the rate without decay.
void make_scorer(LayerSpec& layer, int64_t classes) {
  layer.name = "score_fr";
  layer.tops = {"score_fr"};
  layer.convolution.num_output = classes;
  layer.convolution.bias_term = true;
  layer.convolution.weight_filler.reset();
  layer.convolution.bias_filler = Filler{};
  layer.params = {ParamRule{1.0, 1.0}, ParamRule{2.0, 0.0}};
}

struct Upsampling {
  int64_t stride = 1;
  int64_t kernel = 2;
  int64_t group = 1;
};

// The fixed upsampling from score_fr back to the input: FCN's kernel of
// twice the stride, or one less where only that aligns with whole pixels.
Upsampling choose_upsampling(const NetSpec& spec, int64_t classes) {
  const auto maps = blob_coord_maps(spec);
  const auto map = maps.find("score_fr");
  TORCH_CHECK(
      map != maps.end(),
      spec.source,
      ": score_fr has no fixed position in the image (a global pooling or "
      "InnerProduct before it)");
  const CoordMap& y = map->second.y;
  const CoordMap& x = map->second.x;
  const double stride = std::round(y.scale);
  TORCH_CHECK(
      stride >= 1 && std::abs(y.scale - stride) < 1e-9 &&
          std::abs(x.scale - y.scale) < 1e-9 &&
          std::abs(x.offset - y.offset) < 1e-9,
      spec.source,
      ": score_fr maps to the image with stride ",
      y.scale,
      " x ",
      x.scale,
      " and offset ",
      y.offset,
      ", ",
      x.offset,
      "; the upsampling needs one whole stride for both axes");
  for (const int64_t extra : {0, 1}) {
    const auto kernel = static_cast<int64_t>(2 * stride) - extra;
    const double offset = y.offset - (kernel - 1) / 2.0;
    if (offset <= 0 && std::abs(offset - std::round(offset)) < 1e-9) {
      return {static_cast<int64_t>(stride), kernel, extra ? classes : 1};
    }
  }
  TORCH_CHECK(
      false,
      spec.source,
      ": score_fr sits at offset ",
      y.offset,
      " (stride ",
      stride,
      "): no upsampling kernel of ",
      2 * stride,
      " or ",
      2 * stride - 1,
      " aligns it with the image");
}

} // namespace

NetSpec convolutionalize(
    const NetSpec& classifier,
    const ConvolutionalizeOptions& options) {
  const int64_t classes = options.num_classes;
  TORCH_CHECK_VALUE(
      classes >= 1, "convolutionalize needs num_classes >= 1, got ", classes);
  TORCH_CHECK_VALUE(
      options.mean.size() <= 1 || options.mean.size() == 3,
      "convolutionalize: the mean takes 1 value or 3 (B, G, R), got ",
      options.mean.size());
  const std::string source =
      classifier.source.empty() ? classifier.name : classifier.source;
  const auto planes = plane_sizes(classifier); // also validates
  const auto flow = infer_channels(classifier);

  size_t head = 0;
  while (head < classifier.layers.size() &&
         !starts_head(classifier.layers[head], planes)) {
    ++head;
  }
  TORCH_CHECK(
      head < classifier.layers.size(),
      source,
      ": no classifier head to convolutionalize (no InnerProduct, Flatten "
      "or global pooling)");

  NetSpec fcn;
  fcn.name = "FCN-" + (classifier.name.empty() ? "net" : classifier.name);
  fcn.source = classifier.source;
  fcn.input = classifier.input;
  fcn.mean = !options.mean.empty() ? options.mean
      : !classifier.mean.empty()   ? classifier.mean
                                   : fcn_mean();
  fcn.loss = classifier.loss;
  fcn.notes = classifier.notes;
  fcn.layers.assign(
      classifier.layers.begin(), classifier.layers.begin() + head);

  // The head: blobs of dropped layers stand for their bottoms.
  std::map<std::string, std::string> renamed;
  auto resolve = [&](std::string blob) {
    for (auto it = renamed.find(blob); it != renamed.end();
         it = renamed.find(blob)) {
      blob = it->second;
    }
    return blob;
  };
  bool large_kernel = false;
  std::vector<std::string> dropped;
  for (size_t i = head; i < classifier.layers.size(); ++i) {
    LayerSpec layer = classifier.layers[i];
    const PlaneSize in = planes.at(layer.bottoms[0]);
    if (layer.type == LayerType::kFlatten ||
        layer.type == LayerType::kSoftmax ||
        pools_to_one_value(layer, planes)) {
      const std::string bottom = resolve(layer.bottoms[0]);
      if (layer.tops[0] != bottom) {
        renamed[layer.tops[0]] = bottom;
      }
      dropped.push_back(layer.name);
      continue;
    }
    for (auto& bottom : layer.bottoms) {
      bottom = resolve(bottom);
    }
    if (layer.type == LayerType::kInnerProduct) {
      layer = as_convolution(layer, in, classifier);
      large_kernel = large_kernel || in.height > 1 || in.width > 1;
      fcn.notes.push_back(
          layer.name + ": InnerProduct on " +
          std::to_string(flow.layer_inputs[i] / (in.height * in.width)) + "x" +
          size_text(in) + " -> Convolution " + size_text(in));
    }
    fcn.layers.push_back(std::move(layer));
  }

  // The final classifier: back from the output past the layers without
  // weights (a ReLU on the scores would keep zero-initialised scorers at
  // zero).
  std::string output = resolve(classifier.output);
  size_t scorer = fcn.layers.size();
  for (size_t i = fcn.layers.size(); i-- > 0;) {
    const LayerSpec& layer = fcn.layers[i];
    if (layer.tops[0] != output) {
      continue;
    }
    if (layer.type == LayerType::kConvolution) {
      scorer = i;
      break;
    }
    TORCH_CHECK(
        layer.bottoms.size() == 1,
        classifier.where(*classifier.find(layer.name)),
        ": the classifier's scores come from a ",
        caffe_type_name(layer.type),
        " of several bottoms, not from one layer with weights");
    output = layer.bottoms[0];
  }
  TORCH_CHECK(
      scorer < fcn.layers.size(),
      source,
      ": no Convolution or InnerProduct produces the classifier's scores");
  for (size_t i = scorer + 1; i < fcn.layers.size(); ++i) {
    dropped.push_back(fcn.layers[i].name);
  }
  fcn.layers.resize(scorer + 1);
  const std::string replaced = fcn.layers[scorer].name;
  for (const auto& layer : fcn.layers) {
    for (const char* name : {"score_fr", "upscore", "score"}) {
      TORCH_CHECK(
          layer.name == replaced ||
              (layer.name != name && layer.tops[0] != name),
          classifier.where(*classifier.find(layer.name)),
          ": the name ",
          name,
          " is taken; convolutionalize adds a layer of that name");
    }
  }
  make_scorer(fcn.layers[scorer], classes);
  fcn.notes.push_back(
      replaced + " -> score_fr (" + std::to_string(classes) +
      " classes, zero-initialised)");
  if (!dropped.empty()) {
    std::string names;
    for (const auto& name : dropped) {
      names += (names.empty() ? "" : ", ") + name;
    }
    fcn.notes.push_back("dropped: " + names);
  }

  if (large_kernel) {
    for (auto& layer : fcn.layers) {
      if (layer.type == LayerType::kConvolution) {
        fcn.notes.push_back(
            layer.name + ": pad " +
            std::to_string(layer.convolution.window.pad_h) +
            " -> 100, so that any input reaches the converted kernels");
        layer.convolution.window.pad_h = layer.convolution.window.pad_w = 100;
        break;
      }
    }
  }

  fcn.output = "score_fr";
  const Upsampling up = choose_upsampling(fcn, classes);
  LayerSpec upscore;
  upscore.name = "upscore";
  upscore.type = LayerType::kDeconvolution;
  upscore.bottoms = {"score_fr"};
  upscore.tops = {"upscore"};
  upscore.convolution.num_output = classes;
  Window& w = upscore.convolution.window;
  w.kernel_h = w.kernel_w = up.kernel;
  w.stride_h = w.stride_w = up.stride;
  upscore.convolution.group = up.group;
  upscore.convolution.bias_term = false;
  upscore.params = {ParamRule{0.0, 1.0}};
  fcn.layers.push_back(upscore);
  LayerSpec crop;
  crop.name = "score";
  crop.type = LayerType::kCrop;
  crop.bottoms = {"upscore", fcn.input};
  crop.tops = {"score"};
  fcn.layers.push_back(crop);
  fcn.output = "score";
  validate(fcn);
  const auto offsets = resolve_crop_offsets(fcn);
  fcn.notes.push_back(
      "upscore: fixed bilinear, kernel " + std::to_string(up.kernel) +
      ", stride " + std::to_string(up.stride) + ", " +
      (up.group == 1 ? std::string("1 group")
                     : std::to_string(up.group) + " groups") +
      "; score: crop offset " + std::to_string(offsets.at("score").first));
  return fcn;
}

} // namespace models
} // namespace fcnlab
