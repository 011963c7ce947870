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

// The same net in FCN's train style (a Python data layer with param_str,
// two heads) and in Caffe's V0 layout with a padding layer, so that the
// fuzzer starts from the literal reader, loss choice and V0 upgrade.
inline const char* kTinyFcnTrainNet = R"(name: "tiny-fcn"
layer { name: "data" type: "Python" top: "data" top: "label" top: "geo"
  python_param { module: "voc_layers" layer: "SBDDSegDataLayer"
    param_str: "{'dir': '../d', 'seed': 1337, 'tops': ['data', 'label'], 'mean': (104.0, 116.5, 122.25), 'on': True}" } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 3 pad: 1 engine: CAFFE } }
layer { name: "score" type: "Convolution" bottom: "conv1" top: "score"
  convolution_param { num_output: 3 kernel_size: 1 } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "score" bottom: "label" top: "loss" }
layer { name: "score_geo" type: "Convolution" bottom: "conv1" top: "score_geo"
  convolution_param { num_output: 2 kernel_size: 1 } }
layer { name: "loss_geo" type: "SoftmaxWithLoss" bottom: "score_geo" bottom: "geo" top: "l" }
)";

inline const char* kTinyV0Net = R"(name: "tiny-v0"
input: "data"
layers { layer { name: "pad1" type: "padding" pad: 1 } bottom: "data" top: "pad1" }
layers { layer { name: "conv1" type: "conv" num_output: 4 kernelsize: 3 blobs_lr: 1 blobs_lr: 2 }
  bottom: "pad1" top: "conv1" }
layers { layer { name: "relu1" type: "relu" } bottom: "conv1" top: "conv1" }
layers { layer { name: "pool1" type: "pool" pool: MAX kernelsize: 2 stride: 2 }
  bottom: "conv1" top: "pool1" }
layers { layer { name: "score" type: "conv" num_output: 3 kernelsize: 1 }
  bottom: "pool1" top: "score" }
)";

/// A classifier in the model zoo's style: a declared input, BatchNorm and
/// Scale, InnerProduct heads, a final Softmax.
inline const char* kTinyClassifier = R"(name: "tiny-classifier"
input: "data"
input_dim: 1 input_dim: 3 input_dim: 12 input_dim: 12
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 2 kernel_size: 3 stride: 2 bias_term: false } }
layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" }
layer { name: "scale1" type: "Scale" bottom: "conv1" top: "conv1"
  scale_param { bias_term: true } }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "fc6" type: "InnerProduct" bottom: "pool1" top: "fc6"
  inner_product_param { num_output: 4 } }
layer { name: "flat" type: "Flatten" bottom: "fc6" top: "flat" }
layer { name: "fc7" type: "InnerProduct" bottom: "flat" top: "fc7"
  inner_product_param { num_output: 3 } }
layer { name: "prob" type: "Softmax" bottom: "fc7" top: "prob" }
)";

} // namespace fuzz
} // namespace fcnlab
