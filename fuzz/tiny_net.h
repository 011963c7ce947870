#pragma once

// The small network behind the model-file and snapshot seeds, so that their
// inputs stay a few kilobytes.

namespace fcnlab {
namespace fuzz {

inline const char* kTinyNet = R"(name: "tiny"
layer {
  name: "data" type: "Input" top: "data"
  input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } }
}
layer {
  name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
  convolution_param { num_output: 4 kernel_size: 3 pad: 1 }
}
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer {
  name: "score" type: "Convolution" bottom: "conv1" top: "score"
  convolution_param { num_output: 3 kernel_size: 1 }
}
layer {
  name: "loss" type: "SoftmaxWithLoss" bottom: "score" bottom: "label"
  top: "loss" loss_param { ignore_label: 255 }
}
)";

} // namespace fuzz
} // namespace fcnlab
