#include "zoo_fixtures.h"

namespace fcnlab {
namespace testing {
namespace {

const char* const kLearned =
    "  param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }\n";

std::string convolution(
    const std::string& name,
    const std::string& bottom,
    int outputs,
    const std::string& geometry) {
  return "layer { name: \"" + name + "\" type: \"Convolution\" bottom: \"" +
      bottom + "\" top: \"" + name + "\"\n" + kLearned +
      "  convolution_param { num_output: " + std::to_string(outputs) + " " +
      geometry + " } }\n";
}

std::string in_place(
    const std::string& name,
    const std::string& type,
    const std::string& blob,
    const std::string& params = "") {
  return "layer { name: \"" + name + "\" type: \"" + type + "\" bottom: \"" +
      blob + "\" top: \"" + blob + "\"" + params + " }\n";
}

std::string pool(
    const std::string& name,
    const std::string& bottom,
    int kernel,
    int stride) {
  return "layer { name: \"" + name + "\" type: \"Pooling\" bottom: \"" +
      bottom + "\" top: \"" + name + "\"\n  pooling_param { pool: MAX " +
      "kernel_size: " + std::to_string(kernel) +
      " stride: " + std::to_string(stride) + " } }\n";
}

std::string lrn(const std::string& name, const std::string& bottom) {
  return "layer { name: \"" + name + "\" type: \"LRN\" bottom: \"" + bottom +
      "\" top: \"" + name +
      "\"\n  lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 } }\n";
}

std::string inner_product(
    const std::string& name,
    const std::string& bottom,
    int outputs) {
  return "layer { name: \"" + name + "\" type: \"InnerProduct\" bottom: \"" +
      bottom + "\" top: \"" + name + "\"\n" + kLearned +
      "  inner_product_param { num_output: " + std::to_string(outputs) +
      " } }\n";
}

// fc6 .. fc8 with their ReLU and Dropout layers, then the Softmax.
std::string classifier_head(const std::string& bottom, int classes) {
  const std::string dropout = " dropout_param { dropout_ratio: 0.5 }";
  return inner_product("fc6", bottom, 4096) + in_place("relu6", "ReLU", "fc6") +
      in_place("drop6", "Dropout", "fc6", dropout) +
      inner_product("fc7", "fc6", 4096) + in_place("relu7", "ReLU", "fc7") +
      in_place("drop7", "Dropout", "fc7", dropout) +
      inner_product("fc8", "fc7", classes) +
      "layer { name: \"prob\" type: \"Softmax\" bottom: \"fc8\" top: \"prob\" "
      "}\n";
}

} // namespace

std::string alexnet_deploy(bool caffenet_order, int classes) {
  std::string text = std::string("name: \"") +
      (caffenet_order ? "CaffeNet" : "AlexNet") +
      "\"\nlayer { name: \"data\" type: \"Input\" top: \"data\"\n"
      "  input_param { shape: { dim: 10 dim: 3 dim: 227 dim: 227 } } }\n";
  // Alexnet normalizes, then pools; CaffeNet pools, then normalizes.
  auto norm_pool = [&](const std::string& index, const std::string& conv) {
    if (caffenet_order) {
      text += pool("pool" + index, conv, 3, 2) +
          lrn("norm" + index, "pool" + index);
      return "norm" + index;
    }
    text +=
        lrn("norm" + index, conv) + pool("pool" + index, "norm" + index, 3, 2);
    return "pool" + index;
  };
  text += convolution("conv1", "data", 96, "kernel_size: 11 stride: 4");
  text += in_place("relu1", "ReLU", "conv1");
  const std::string stage1 = norm_pool("1", "conv1");
  text += convolution("conv2", stage1, 256, "pad: 2 kernel_size: 5 group: 2");
  text += in_place("relu2", "ReLU", "conv2");
  const std::string stage2 = norm_pool("2", "conv2");
  text += convolution("conv3", stage2, 384, "pad: 1 kernel_size: 3");
  text += in_place("relu3", "ReLU", "conv3");
  text += convolution("conv4", "conv3", 384, "pad: 1 kernel_size: 3 group: 2");
  text += in_place("relu4", "ReLU", "conv4");
  text += convolution("conv5", "conv4", 256, "pad: 1 kernel_size: 3 group: 2");
  text += in_place("relu5", "ReLU", "conv5");
  text += pool("pool5", "conv5", 3, 2);
  return text + classifier_head("pool5", classes);
}

std::string vgg16_deploy(int classes) {
  std::string text =
      "name: \"VGG_ILSVRC_16_layers\"\ninput: \"data\"\n"
      "input_dim: 10\ninput_dim: 3\ninput_dim: 224\ninput_dim: 224\n";
  const int widths[] = {64, 128, 256, 512, 512};
  const int depths[] = {2, 2, 3, 3, 3};
  std::string bottom = "data";
  for (int stage = 1; stage <= 5; ++stage) {
    for (int i = 1; i <= depths[stage - 1]; ++i) {
      const std::string suffix =
          std::to_string(stage) + "_" + std::to_string(i);
      text += convolution(
          "conv" + suffix, bottom, widths[stage - 1], "pad: 1 kernel_size: 3");
      text += in_place("relu" + suffix, "ReLU", "conv" + suffix);
      bottom = "conv" + suffix;
    }
    const std::string name = "pool" + std::to_string(stage);
    text += pool(name, bottom, 2, 2);
    bottom = name;
  }
  return text + classifier_head(bottom, classes);
}

} // namespace testing
} // namespace fcnlab
