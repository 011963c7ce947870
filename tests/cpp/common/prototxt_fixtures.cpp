#include "prototxt_fixtures.h"

namespace fcnlab {
namespace testing {

// DIGITS' all-in-one FCN-Alexnet as a user pastes it into the Custom Network
// tab, written from DESIGN.md §3: Data layers per phase, the Power shift,
// layers without param blocks except score_fr and upscore, the loss and an
// accuracy layer that only the validation stage has.
const char* const kDigitsFcnAlexnet = R"(name: "fcn_alexnet"
layer {
  name: "data" type: "Data" top: "data"
  include { phase: TRAIN }
  data_param { batch_size: 1 backend: LMDB }
}
layer {
  name: "data" type: "Data" top: "data"
  include { phase: TEST }
  data_param { batch_size: 1 backend: LMDB }
}
layer {
  name: "label" type: "Data" top: "label"
  include { phase: TRAIN }
  data_param { batch_size: 1 backend: LMDB }
}
layer {
  name: "label" type: "Data" top: "label"
  include { phase: TEST }
  data_param { batch_size: 1 backend: LMDB }
}
layer {
  name: "shift" type: "Power" bottom: "data" top: "data_preprocessed"
  power_param { shift: -116.0 }
}
layer {
  name: "conv1" type: "Convolution" bottom: "data_preprocessed" top: "conv1"
  convolution_param { num_output: 96 kernel_size: 11 stride: 4 pad: 100 }
}
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer {
  name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 }
}
layer {
  name: "norm1" type: "LRN" bottom: "pool1" top: "norm1"
  lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 }
}
layer {
  name: "conv2" type: "Convolution" bottom: "norm1" top: "conv2"
  convolution_param { num_output: 256 pad: 2 kernel_size: 5 group: 2 }
}
layer { name: "relu2" type: "ReLU" bottom: "conv2" top: "conv2" }
layer {
  name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 }
}
layer {
  name: "norm2" type: "LRN" bottom: "pool2" top: "norm2"
  lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 }
}
layer {
  name: "conv3" type: "Convolution" bottom: "norm2" top: "conv3"
  convolution_param { num_output: 384 pad: 1 kernel_size: 3 }
}
layer { name: "relu3" type: "ReLU" bottom: "conv3" top: "conv3" }
layer {
  name: "conv4" type: "Convolution" bottom: "conv3" top: "conv4"
  convolution_param { num_output: 384 pad: 1 kernel_size: 3 group: 2 }
}
layer { name: "relu4" type: "ReLU" bottom: "conv4" top: "conv4" }
layer {
  name: "conv5" type: "Convolution" bottom: "conv4" top: "conv5"
  convolution_param { num_output: 256 pad: 1 kernel_size: 3 group: 2 }
}
layer { name: "relu5" type: "ReLU" bottom: "conv5" top: "conv5" }
layer {
  name: "pool5" type: "Pooling" bottom: "conv5" top: "pool5"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 }
}
layer {
  name: "fc6" type: "Convolution" bottom: "pool5" top: "fc6"
  convolution_param { num_output: 4096 kernel_size: 6 }
}
layer { name: "relu6" type: "ReLU" bottom: "fc6" top: "fc6" }
layer {
  name: "drop6" type: "Dropout" bottom: "fc6" top: "fc6"
  dropout_param { dropout_ratio: 0.5 }
}
layer {
  name: "fc7" type: "Convolution" bottom: "fc6" top: "fc7"
  convolution_param { num_output: 4096 kernel_size: 1 }
}
layer { name: "relu7" type: "ReLU" bottom: "fc7" top: "fc7" }
layer {
  name: "drop7" type: "Dropout" bottom: "fc7" top: "fc7"
  dropout_param { dropout_ratio: 0.5 }
}
layer {
  name: "score_fr" type: "Convolution" bottom: "fc7" top: "score_fr"
  param { lr_mult: 1 decay_mult: 1 }
  param { lr_mult: 2 decay_mult: 0 }
  convolution_param { num_output: 21 kernel_size: 1 }
}
layer {
  name: "upscore" type: "Deconvolution" bottom: "score_fr" top: "upscore"
  param { lr_mult: 0 }
  convolution_param {
    num_output: 21 bias_term: false kernel_size: 63 group: 21 stride: 32
    weight_filler { type: "bilinear" }
  }
}
layer {
  name: "score" type: "Crop" bottom: "upscore" bottom: "data" top: "score"
  crop_param { axis: 2 offset: 18 }
}
layer {
  name: "loss" type: "SoftmaxWithLoss" bottom: "score" bottom: "label"
  top: "loss"
  loss_param { ignore_label: 255 normalize: true }
  exclude { stage: "deploy" }
}
layer {
  name: "accuracy" type: "Accuracy" bottom: "score" bottom: "label"
  top: "accuracy"
  include { stage: "val" }
}
)";

const char* const kTwoHeadNet = R"(name: "siftflow-tiny"
layer { name: "data" type: "Python" top: "data" top: "sem" top: "geo"
  python_param { module: "siftflow_layers" layer: "SIFTFlowSegDataLayer"
    param_str: "{'siftflow_dir': '../data/sift-flow', 'seed': 1337, 'split': 'trainval'}" } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 pad: 1 kernel_size: 3 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "score_sem" type: "Convolution" bottom: "conv1" top: "score_sem"
  convolution_param { num_output: 21 kernel_size: 1 } }
layer { name: "loss_sem" type: "SoftmaxWithLoss" bottom: "score_sem" bottom: "sem"
  top: "loss_sem" loss_param { ignore_label: 255 normalize: false } }
layer { name: "score_geo" type: "Convolution" bottom: "conv1" top: "score_geo"
  convolution_param { num_output: 3 kernel_size: 1 } }
layer { name: "relu_geo" type: "ReLU" bottom: "score_geo" top: "score_geo" }
layer { name: "loss_geo" type: "SoftmaxWithLoss" bottom: "score_geo" bottom: "geo"
  top: "loss_geo" loss_param { ignore_label: 255 normalize: false } }
)";

} // namespace testing
} // namespace fcnlab
