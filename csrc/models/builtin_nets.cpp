#include <fcnlab/models/builtin_nets.h>

#include <fcnlab/models/crop.h>

#include <c10/util/Exception.h>

#include <cmath>

namespace fcnlab {
namespace models {
namespace {

LayerSpec layer(
    std::string name,
    LayerType type,
    std::vector<std::string> bottoms,
    std::string top = "") {
  LayerSpec spec;
  spec.type = type;
  spec.bottoms = std::move(bottoms);
  spec.tops = {top.empty() ? name : std::move(top)};
  spec.name = std::move(name);
  return spec;
}

// Caffe's ReLU and Dropout layers work in place: bottom and top are the same.
LayerSpec in_place(std::string name, LayerType type, const std::string& blob) {
  return layer(std::move(name), type, {blob}, blob);
}

Window square(int64_t kernel, int64_t stride = 1, int64_t pad = 0) {
  Window window;
  window.kernel_h = window.kernel_w = kernel;
  window.stride_h = window.stride_w = stride;
  window.pad_h = window.pad_w = pad;
  return window;
}

LayerSpec conv(
    std::string name,
    const std::string& bottom,
    int64_t outputs,
    Window window,
    int64_t group = 1) {
  LayerSpec spec = layer(std::move(name), LayerType::kConvolution, {bottom});
  spec.convolution.num_output = outputs;
  spec.convolution.window = window;
  spec.convolution.group = group;
  return spec;
}

Filler gaussian(double std) {
  Filler filler;
  filler.type = "gaussian";
  filler.std = std;
  return filler;
}

Filler msra() {
  Filler filler;
  filler.type = "msra";
  return filler;
}

LayerSpec max_pool(std::string name, const std::string& bottom, Window w) {
  LayerSpec spec = layer(std::move(name), LayerType::kPooling, {bottom});
  spec.pooling.window = w;
  return spec;
}

// A fixed bilinear upsampling by `stride` (FCN's interp surgery), no bias.
LayerSpec upsample(
    std::string name,
    const std::string& bottom,
    int64_t classes,
    int64_t kernel,
    int64_t stride,
    int64_t group) {
  LayerSpec spec = layer(std::move(name), LayerType::kDeconvolution, {bottom});
  spec.convolution.num_output = classes;
  spec.convolution.window = square(kernel, stride);
  spec.convolution.group = group;
  spec.convolution.bias_term = false;
  // No filler: a fixed deconvolution gets FCN's interp (bilinear per
  // channel, zero between channels).
  spec.params = {ParamRule{0.0, 1.0}};
  return spec;
}

LayerSpec crop(std::string name, const std::string& bottom, std::string ref) {
  return layer(std::move(name), LayerType::kCrop, {bottom, std::move(ref)});
}

// FCN's scorers: weights at the solver's rate and decay, biases at twice the
// rate without decay; no filler, so they start at zero.
LayerSpec scorer(std::string name, const std::string& bottom, int64_t classes) {
  LayerSpec spec = conv(std::move(name), bottom, classes, square(1));
  spec.params = {ParamRule{1.0, 1.0}, ParamRule{2.0, 0.0}};
  return spec;
}

void check_classes(const char* net, int64_t classes) {
  TORCH_CHECK_VALUE(
      classes >= 1, net, " needs num_classes >= 1, got ", classes);
}

} // namespace

const std::vector<double>& fcn_mean() {
  static const std::vector<double> mean{104.00699, 116.66877, 122.67892};
  return mean;
}

NetSpec fcn_alexnet_spec(const FcnAlexNetOptions& options) {
  const int64_t classes = options.num_classes();
  check_classes("FCN-Alexnet", classes);
  TORCH_CHECK_VALUE(
      options.mean().size() == 1 || options.mean().size() == 3,
      "FCN-Alexnet mean takes 1 value or 3 (B, G, R), got ",
      options.mean().size());
  TORCH_CHECK_VALUE(
      options.dropout() >= 0 && options.dropout() < 1,
      "FCN-Alexnet dropout must be in [0, 1), got ",
      options.dropout());

  NetSpec net;
  net.name = "FCN-Alexnet";
  net.source = "fcn_alexnet";
  std::string image = "data";
  if (options.mean().size() == 1) {
    LayerSpec shift = layer("shift", LayerType::kPower, {"data"}, "shifted");
    shift.power.shift = -options.mean()[0];
    net.layers.push_back(shift);
    image = "shifted";
  } else {
    net.mean = options.mean();
  }

  auto relu_conv = [&](LayerSpec spec, Filler filler) {
    spec.convolution.weight_filler = filler;
    const std::string top = spec.tops[0];
    const std::string relu = "relu" + spec.name.substr(spec.name.size() - 1);
    net.layers.push_back(std::move(spec));
    net.layers.push_back(in_place(relu, LayerType::kReLU, top));
  };
  auto pool_norm = [&](const std::string& index, const std::string& bottom) {
    net.layers.push_back(max_pool("pool" + index, bottom, square(3, 2)));
    LayerSpec norm = layer("norm" + index, LayerType::kLRN, {"pool" + index});
    norm.lrn = {kLrnSize, kLrnAlpha, kLrnBeta, kLrnK};
    net.layers.push_back(norm);
  };
  auto dropout = [&](const std::string& name, const std::string& blob) {
    LayerSpec drop = in_place(name, LayerType::kDropout, blob);
    drop.dropout_ratio = options.dropout();
    net.layers.push_back(drop);
  };

  // He initialisation assumes unit-variance inputs; shifted BGR pixels vary
  // by about 64, so conv1 starts that much smaller.
  const double conv1_std = std::sqrt(2.0 / (3 * 11 * 11)) / kInputScale;
  // pad 100 makes every input size, even 1x1, reach fc6 with room left for
  // the crop.
  relu_conv(conv("conv1", image, 96, square(11, 4, 100)), gaussian(conv1_std));
  pool_norm("1", "conv1");
  relu_conv(conv("conv2", "norm1", 256, square(5, 1, 2), 2), msra());
  pool_norm("2", "conv2");
  relu_conv(conv("conv3", "norm2", 384, square(3, 1, 1)), msra());
  relu_conv(conv("conv4", "conv3", 384, square(3, 1, 1), 2), msra());
  relu_conv(conv("conv5", "conv4", 256, square(3, 1, 1), 2), msra());
  net.layers.push_back(max_pool("pool5", "conv5", square(3, 2)));
  // CaffeNet's fully connected initialisation: small fc6/fc7 outputs keep
  // the first updates of the 4096-input scorer from overshooting.
  relu_conv(
      conv("fc6", "pool5", 4096, square(6)), gaussian(kFullyConnectedStd));
  dropout("drop6", "fc6");
  relu_conv(conv("fc7", "fc6", 4096, square(1)), gaussian(kFullyConnectedStd));
  dropout("drop7", "fc7");
  net.layers.push_back(scorer("score_fr", "fc7", classes));
  net.layers.push_back(
      upsample("upscore", "score_fr", classes, 63, 32, /*group=*/classes));
  net.layers.push_back(crop("score", "upscore", "data"));
  resolve_crop_offsets(net);
  return net;
}

NetSpec alexnet_classifier_spec(int64_t classes) {
  check_classes("the Alexnet classifier", classes);
  NetSpec net;
  net.name = "AlexNet";
  net.source = "alexnet_classifier";
  net.mean = {FcnAlexNetOptions().mean()};
  net.output = "fc8";
  // bvlc_alexnet's param blocks: weights lr 1 / decay 1, biases lr 2 / 0.
  auto learned = [&](LayerSpec spec, Filler filler) {
    spec.convolution.weight_filler = filler;
    spec.params = {ParamRule{1.0, 1.0}, ParamRule{2.0, 0.0}};
    net.layers.push_back(std::move(spec));
  };
  auto relu = [&](const std::string& index, const std::string& blob) {
    net.layers.push_back(in_place("relu" + index, LayerType::kReLU, blob));
  };
  auto norm_pool = [&](const std::string& index, const std::string& bottom) {
    LayerSpec norm = layer("norm" + index, LayerType::kLRN, {bottom});
    norm.lrn = {kLrnSize, kLrnAlpha, kLrnBeta, kLrnK};
    net.layers.push_back(norm);
    net.layers.push_back(
        max_pool("pool" + index, "norm" + index, square(3, 2)));
  };
  auto dropout = [&](const std::string& index, const std::string& blob) {
    LayerSpec drop = in_place("drop" + index, LayerType::kDropout, blob);
    drop.dropout_ratio = 0.5;
    net.layers.push_back(drop);
  };

  // The same starting weights as FCN-Alexnet's (see fcn_alexnet_spec).
  learned(
      conv("conv1", "data", 96, square(11, 4)),
      gaussian(std::sqrt(2.0 / (3 * 11 * 11)) / kInputScale));
  relu("1", "conv1");
  norm_pool("1", "conv1");
  learned(conv("conv2", "pool1", 256, square(5, 1, 2), 2), msra());
  relu("2", "conv2");
  norm_pool("2", "conv2");
  learned(conv("conv3", "pool2", 384, square(3, 1, 1)), msra());
  relu("3", "conv3");
  learned(conv("conv4", "conv3", 384, square(3, 1, 1), 2), msra());
  relu("4", "conv4");
  learned(conv("conv5", "conv4", 256, square(3, 1, 1), 2), msra());
  relu("5", "conv5");
  net.layers.push_back(max_pool("pool5", "conv5", square(3, 2)));
  learned(conv("fc6", "pool5", 4096, square(6)), gaussian(kFullyConnectedStd));
  relu("6", "fc6");
  dropout("6", "fc6");
  learned(conv("fc7", "fc6", 4096, square(1)), gaussian(kFullyConnectedStd));
  relu("7", "fc7");
  dropout("7", "fc7");
  learned(conv("fc8", "fc7", classes, square(1)), gaussian(0.01));
  return net;
}

NetSpec fcn_vgg16_spec(const std::string& variant, int64_t classes) {
  TORCH_CHECK_VALUE(
      variant == "fcn32s" || variant == "fcn16s" || variant == "fcn8s" ||
          variant == "fcn8s_atonce",
      "unknown VGG16 FCN '",
      variant,
      "'; expected fcn32s, fcn16s, fcn8s or fcn8s_atonce");
  check_classes(variant.c_str(), classes);
  NetSpec net;
  net.name = variant;
  net.source = variant;
  net.mean = fcn_mean();
  net.loss.normalize = false;

  // net.py's conv_relu: weights at lr 1 / decay 1, biases lr 2 / decay 0.
  std::string bottom = "data";
  auto conv_relu = [&](const std::string& suffix, int64_t outputs, Window w) {
    LayerSpec spec = conv("conv" + suffix, bottom, outputs, w);
    if (suffix == "6" || suffix == "7") {
      spec.name = spec.tops[0] = "fc" + suffix;
    }
    spec.params = {ParamRule{1.0, 1.0}, ParamRule{2.0, 0.0}};
    spec.convolution.weight_filler = msra();
    bottom = spec.tops[0];
    net.layers.push_back(spec);
    net.layers.push_back(in_place("relu" + suffix, LayerType::kReLU, bottom));
  };
  const int64_t widths[] = {64, 128, 256, 512, 512};
  const int64_t depths[] = {2, 2, 3, 3, 3};
  for (int stage = 1; stage <= 5; ++stage) {
    for (int i = 1; i <= depths[stage - 1]; ++i) {
      const bool first = stage == 1 && i == 1;
      conv_relu(
          std::to_string(stage) + "_" + std::to_string(i),
          widths[stage - 1],
          square(3, 1, first ? 100 : 1));
    }
    const std::string pool = "pool" + std::to_string(stage);
    net.layers.push_back(max_pool(pool, bottom, square(2, 2)));
    bottom = pool;
  }
  conv_relu("6", 4096, square(7));
  net.layers.push_back(in_place("drop6", LayerType::kDropout, "fc6"));
  conv_relu("7", 4096, square(1));
  net.layers.push_back(in_place("drop7", LayerType::kDropout, "fc7"));
  net.layers.push_back(scorer("score_fr", "fc7", classes));

  if (variant == "fcn32s") {
    net.layers.push_back(upsample("upscore", "score_fr", classes, 64, 32, 1));
    net.layers.push_back(crop("score", "upscore", "data"));
    resolve_crop_offsets(net);
    return net;
  }

  const bool at_once = variant == "fcn8s_atonce";
  // The at-once net scales the skip inputs by fixed constants so that they
  // start small against the coarse scores.
  auto skip = [&](const std::string& pool, double factor) {
    if (!at_once) {
      return pool;
    }
    LayerSpec scale = layer("scale_" + pool, LayerType::kScale, {pool});
    scale.scale.filler = Filler{"constant", factor};
    scale.params = {ParamRule{0.0, 1.0}};
    net.layers.push_back(scale);
    return scale.tops[0];
  };
  auto fuse = [&](const std::string& coarse,
                  const std::string& pool,
                  double factor,
                  const std::string& upscored) {
    net.layers.push_back(upsample(upscored, coarse, classes, 4, 2, 1));
    net.layers.push_back(scorer("score_" + pool, skip(pool, factor), classes));
    net.layers.push_back(
        crop("score_" + pool + "c", "score_" + pool, upscored));
    net.layers.push_back(layer(
        "fuse_" + pool,
        LayerType::kEltwise,
        {upscored, "score_" + pool + "c"}));
    return "fuse_" + pool;
  };
  const std::string fused4 = fuse("score_fr", "pool4", 0.01, "upscore2");
  if (variant == "fcn16s") {
    net.layers.push_back(upsample("upscore16", fused4, classes, 32, 16, 1));
    net.layers.push_back(crop("score", "upscore16", "data"));
  } else {
    const std::string fused3 = fuse(fused4, "pool3", 0.0001, "upscore_pool4");
    net.layers.push_back(upsample("upscore8", fused3, classes, 16, 8, 1));
    net.layers.push_back(crop("score", "upscore8", "data"));
  }
  resolve_crop_offsets(net);
  return net;
}

std::vector<std::string> builtin_net_names() {
  return {"fcn_alexnet", "fcn32s", "fcn16s", "fcn8s", "fcn8s_atonce"};
}

NetSpec builtin_net(const std::string& name, int64_t num_classes) {
  if (name == "fcn_alexnet") {
    return fcn_alexnet_spec(FcnAlexNetOptions(num_classes));
  }
  TORCH_CHECK_VALUE(
      name == "fcn32s" || name == "fcn16s" || name == "fcn8s" ||
          name == "fcn8s_atonce",
      "unknown network '",
      name,
      "'; built in are fcn_alexnet, fcn32s, fcn16s, fcn8s, fcn8s_atonce "
      "(or give a .prototxt file)");
  return fcn_vgg16_spec(name, num_classes);
}

} // namespace models
} // namespace fcnlab
