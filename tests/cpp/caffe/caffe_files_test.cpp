// The files of the Caffe world as users bring them: FCN's train/val nets
// with Python data layers, two-head and two-input nets, nets that use any
// part of Caffe's schema, and the V0 format.
#include <fcnlab/caffe/caffemodel.h>
#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/fcn_net.h>

#include "caffe.pb.h"
#include "caffe_fixtures.h"
#include "prototxt_fixtures.h"
#include "seeded_test.h"

#include <google/protobuf/text_format.h>
#include <torch/torch.h>

#include <fstream>

namespace fcnlab {
namespace caffe {
namespace {

using CaffeFilesTest = testing::SeededTest;

const char* kFcnMean = "(104.00699, 116.66877, 122.67892)";

// A small net in the style of FCN's voc-fcn*/train.prototxt.
std::string fcn_train_net() {
  return std::string(R"(name: "fcn-tiny"
layer { name: "data" type: "Python" top: "data" top: "label"
  python_param { module: "voc_layers" layer: "SBDDSegDataLayer"
    param_str: "{'sbdd_dir': '../data/sbdd/dataset', 'seed': 1337, 'split': 'train', 'mean': )") +
      kFcnMean + R"(}" } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
  convolution_param { num_output: 4 pad: 10 kernel_size: 3 engine: CAFFE } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "score_fr" type: "Convolution" bottom: "pool1" top: "score_fr"
  convolution_param { num_output: 3 kernel_size: 1 engine: CAFFE } }
layer { name: "upscore" type: "Deconvolution" bottom: "score_fr" top: "upscore"
  param { lr_mult: 0 }
  convolution_param { num_output: 3 bias_term: false kernel_size: 4 stride: 2 } }
layer { name: "score" type: "Crop" bottom: "upscore" bottom: "data" top: "score" }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "score" bottom: "label"
  top: "loss" loss_param { ignore_label: 255 normalize: false } }
)";
}

// NYUD's color + HHA net: two images summed into one score.
const char* kTwoInputs = R"(name: "nyud-tiny"
layer { name: "data" type: "Python" top: "color" top: "hha" top: "label"
  python_param { module: "nyud_layers" layer: "NYUDSegDataLayer"
    param_str: "{'nyud_dir': '../data/nyud', 'tops': ['color', 'hha', 'label'], 'seed': 1337, 'split': 'trainval'}" } }
layer { name: "score_color" type: "Convolution" bottom: "color" top: "score_color"
  convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "score_hha" type: "Convolution" bottom: "hha" top: "score_hha"
  convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "score" type: "Eltwise" bottom: "score_color" bottom: "score_hha" top: "score" }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "score" bottom: "label" top: "loss" }
)";

std::string message_of(
    const std::string& text,
    const std::string& source,
    const PrototxtOptions& options = {}) {
  return testing::error_message_of(
      [&] { parse_prototxt(text, source, options); });
}

std::vector<std::string> layer_names(const models::NetSpec& spec) {
  std::vector<std::string> names;
  for (const auto& layer : spec.layers) {
    names.push_back(layer.name);
  }
  return names;
}

TEST_F(CaffeFilesTest, FcnTrainNetWithAPythonDataLayer) {
  const auto spec = parse_prototxt(fcn_train_net(), "train.prototxt");
  EXPECT_EQ(spec.input, "data"); // label is the loss's label
  EXPECT_EQ(spec.output, "score");
  EXPECT_EQ(spec.mean, (std::vector<double>{104.00699, 116.66877, 122.67892}));
  EXPECT_EQ(spec.loss.ignore_label, 255);
  EXPECT_FALSE(spec.loss.normalize);
  EXPECT_EQ(
      layer_names(spec),
      (std::vector<std::string>{
          "conv1", "relu1", "pool1", "score_fr", "upscore", "score"}));
  ASSERT_EQ(spec.notes.size(), 1u);
  EXPECT_EQ(
      spec.notes[0],
      std::string("data layer data: Python voc_layers.SBDDSegDataLayer, "
                  "mean ") +
          kFcnMean +
          "; set aside (data comes from the command line): "
          "sbdd_dir='../data/sbdd/dataset', seed=1337, split='train'");

  // The param_str mean is subtracted before the first layer: the net on an
  // image equals the same net without a mean on the image minus the mean.
  models::FcnNet with_mean(spec);
  auto plain_spec = spec;
  plain_spec.mean.clear();
  models::FcnNet plain(plain_spec);
  {
    torch::NoGradGuard no_grad;
    auto target = plain->named_parameters();
    for (const auto& pair : with_mean->named_parameters()) {
      target[pair.key()].copy_(pair.value());
    }
  }
  with_mean->eval();
  plain->eval();
  torch::NoGradGuard no_grad;
  const auto bgr = torch::rand({1, 3, 20, 24}) * 255;
  const auto mean =
      torch::tensor({104.00699, 116.66877, 122.67892}).view({1, 3, 1, 1});
  const auto scores = with_mean->forward(bgr);
  EXPECT_EQ(scores.sizes(), (std::vector<int64_t>{1, 3, 20, 24}));
  EXPECT_TRUE(torch::allclose(
      scores, plain->forward(bgr - mean.to(torch::kFloat)), 1e-4, 1e-4));
}

TEST_F(CaffeFilesTest, ParamStrIsReportedBySummaryNotes) {
  // A dict without a mean leaves the mean unset and lists every key; a
  // param_str that is not a dict is set aside whole.
  auto text = std::string(testing::kTwoHeadNet);
  const auto spec = parse_prototxt(text, "siftflow.prototxt", {"loss_sem"});
  EXPECT_TRUE(spec.mean.empty());
  EXPECT_EQ(
      spec.notes[0],
      "data layer data: Python siftflow_layers.SIFTFlowSegDataLayer; set "
      "aside (data comes from the command line): "
      "siftflow_dir='../data/sift-flow', seed=1337, split='trainval'");
  const auto tuple = parse_prototxt(
      R"pb(layer { name: "data" type: "Python" top: "data" top: "label"
           python_param { module: "m" layer: "L" param_str: "('a', 2)" } }
         layer { name: "score" type: "Convolution" bottom: "data" top: "score"
           convolution_param { num_output: 2 kernel_size: 1 } }
         layer { name: "loss" type: "SoftmaxWithLoss" bottom: "score"
           bottom: "label" top: "loss" })pb",
      "t.prototxt");
  EXPECT_EQ(
      tuple.notes[0],
      "data layer data: Python m.L, param_str ('a', 2) set aside");
}

TEST_F(CaffeFilesTest, TwoLossesNeedAChoice) {
  EXPECT_EQ(
      message_of(testing::kTwoHeadNet, "siftflow.prototxt"),
      "siftflow.prototxt: the network has 2 loss layers (loss_sem, "
      "loss_geo); choose the one to train and evaluate with --loss-layer "
      "(loss_layer in C++ and Python)");
  EXPECT_EQ(
      message_of(testing::kTwoHeadNet, "siftflow.prototxt", {"loss"}),
      "siftflow.prototxt: no loss layer named 'loss' (its loss layers: "
      "loss_sem, loss_geo)");
  EXPECT_EQ(
      message_of(
          "input: 'data' layer { name: 'c' type: 'Convolution' bottom: "
          "'data' top: 'c' convolution_param { num_output: 2 kernel_size: 1 "
          "} }",
          "deploy.prototxt",
          {"loss"}),
      "deploy.prototxt: no loss layer named 'loss' (the network has none)");
}

TEST_F(CaffeFilesTest, TheChosenLossKeepsOnlyTheLayersThatFeedIt) {
  const auto geo =
      parse_prototxt(testing::kTwoHeadNet, "siftflow.prototxt", {"loss_geo"});
  EXPECT_EQ(geo.input, "data"); // sem and geo are labels
  EXPECT_EQ(geo.output, "score_geo");
  EXPECT_EQ(
      layer_names(geo),
      (std::vector<std::string>{"conv1", "relu1", "score_geo", "relu_geo"}));
  EXPECT_EQ(models::num_classes(geo), 3);
  EXPECT_EQ(
      geo.notes.back(),
      "loss layer loss_geo chosen of loss_sem, loss_geo; pruned (they do not "
      "feed it): score_sem");

  const auto sem =
      parse_prototxt(testing::kTwoHeadNet, "siftflow.prototxt", {"loss_sem"});
  EXPECT_EQ(models::num_classes(sem), 21);
  EXPECT_EQ(
      layer_names(sem),
      (std::vector<std::string>{"conv1", "relu1", "score_sem"}));
  // The pruned network builds and its parameters are the kept layers'.
  models::FcnNet net(sem);
  std::vector<std::string> parameters;
  for (const auto& pair : net->named_parameters()) {
    parameters.push_back(pair.key());
  }
  EXPECT_EQ(
      parameters,
      (std::vector<std::string>{
          "conv1.weight", "conv1.bias", "score_sem.weight", "score_sem.bias"}));
}

TEST_F(CaffeFilesTest, TwoImageInputsAreANamedError) {
  EXPECT_EQ(
      message_of(kTwoInputs, "nyud.prototxt"),
      "nyud.prototxt: the network needs 2 image inputs (color, hha); fcnlab "
      "feeds one image per sample");
}

TEST_F(CaffeFilesTest, PythonLayersWithBottomsAreRefusedByName) {
  auto text = fcn_train_net();
  const std::string relu =
      R"(layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" })";
  text.replace(
      text.find(relu),
      relu.size(),
      R"(layer { name: "mix" type: "Python" bottom: "conv1" top: "conv1"
  python_param { module: "mixers" layer: "Mix" } })");
  EXPECT_EQ(
      message_of(text, "train.prototxt"),
      "train.prototxt:8: layer mix: a Python layer with bottoms "
      "(mixers.Mix) runs Python code, which fcnlab cannot; it reads Python "
      "layers without bottoms as the data layer only");
}

TEST_F(CaffeFilesTest, BadParamStrNamesTheLayer) {
  auto text = fcn_train_net();
  text.replace(text.find("'mean': "), 8, "'mean': 'bgr', 'x': ");
  EXPECT_EQ(
      message_of(text, "train.prototxt"),
      "train.prototxt:2: layer data: param_str's mean is 'bgr'; expected one "
      "number or three (B, G, R)");
  text = fcn_train_net();
  text.replace(text.find("'seed': 1337"), 12, "'seed': seed");
  EXPECT_NE(
      message_of(text, "train.prototxt")
          .find("train.prototxt:2: layer data: param_str is not a Python "
                "literal: 'seed' is a name, not a literal at column"),
      std::string::npos);
}

TEST_F(CaffeFilesTest, AnyFieldOfCaffesSchemaParses) {
  // Fields from all over caffe.proto: the net is refused for what it runs,
  // by layer name and line, never for its syntax.
  const char* text = R"(name: "zoo-style"
force_backward: true
state { phase: TRAIN level: 0 }
layer { name: "data" type: "Input" top: "data"
  input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  param { lr_mult: 1 share_mode: PERMISSIVE }
  convolution_param { num_output: 4 kernel_size: 3 engine: CUDNN
    force_nd_im2col: false } }
layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1"
  batch_norm_param { use_global_stats: true moving_average_fraction: 0.9
    eps: 1e-5 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1"
  relu_param { engine: CAFFE } }
layer { name: "embed1" type: "Embed" bottom: "conv1" top: "embed1"
  embed_param { num_output: 4 input_dim: 10 } }
)";
  EXPECT_NE(
      message_of(text, "zoo.prototxt")
          .find("zoo.prototxt:15: layer embed1: unsupported layer type "
                "'Embed' (fcnlab runs Convolution"),
      std::string::npos);
  // Without Embed the same file builds.
  std::string rest = text;
  rest.erase(rest.find("layer { name: \"embed1\""));
  const auto spec = parse_prototxt(rest, "zoo.prototxt");
  EXPECT_EQ(
      layer_names(spec), (std::vector<std::string>{"conv1", "bn1", "relu1"}));
  // The whole schema is there: a solver file parses as Caffe's message.
  ::caffe::SolverParameter solver;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      "net: 'train_val.prototxt' solver_type: NESTEROV base_lr: 1e-14 "
      "lr_policy: 'fixed' momentum: 0.99 snapshot_prefix: 'snap' "
      "solver_mode: GPU weights: 'a.caffemodel' layer_wise_reduce: false",
      &solver));
  EXPECT_EQ(solver.solver_type(), ::caffe::SolverParameter::NESTEROV);
  EXPECT_EQ(solver.type(), "SGD"); // Caffe's default
  EXPECT_FLOAT_EQ(solver.delta(), 1e-8f);
}

// The same small net in V0 (Caffe's first format, with a padding layer) and
// in V2: both read to one description.
const char* kV0Net = R"(name: "v0"
input: "data"
input_dim: 1 input_dim: 3 input_dim: 9 input_dim: 9
layers { layer { name: "pad1" type: "padding" pad: 2 } bottom: "data" top: "pad1" }
layers {
  layer { name: "conv1" type: "conv" num_output: 4 kernelsize: 3 stride: 1
    blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0 }
  bottom: "pad1" top: "conv1"
}
layers { layer { name: "relu1" type: "relu" } bottom: "conv1" top: "conv1" }
layers { layer { name: "pool1" type: "pool" pool: AVE kernelsize: 2 stride: 2 }
  bottom: "conv1" top: "pool1" }
layers { layer { name: "norm1" type: "lrn" local_size: 3 alpha: 0.0001 beta: 0.5 }
  bottom: "pool1" top: "norm1" }
layers { layer { name: "drop1" type: "dropout" dropout_ratio: 0.3 }
  bottom: "norm1" top: "norm1" }
)";

const char* kV2Net = R"(name: "v0"
input: "data"
input_shape { dim: 1 dim: 3 dim: 9 dim: 9 }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
  convolution_param { num_output: 4 kernel_size: 3 stride: 1 pad: 2 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
layer { name: "norm1" type: "LRN" bottom: "pool1" top: "norm1"
  lrn_param { local_size: 3 alpha: 0.0001 beta: 0.5 } }
layer { name: "drop1" type: "Dropout" bottom: "norm1" top: "norm1"
  dropout_param { dropout_ratio: 0.3 } }
)";

TEST_F(CaffeFilesTest, V0NetsReadAsTheirV2Equivalent) {
  const auto v0 = parse_prototxt(kV0Net, "v0.prototxt");
  const auto v2 = parse_prototxt(kV2Net, "v2.prototxt");
  EXPECT_EQ(net_prototxt(v0), net_prototxt(v2));
  EXPECT_EQ(v0.layers[0].bottoms, (std::vector<std::string>{"data"}));
  EXPECT_EQ(v0.layers[0].convolution.window.pad_h, 2);
  EXPECT_EQ(v0.layers[0].line, 5); // its `layers` entry
  EXPECT_EQ(v0.layers[4].dropout_ratio, 0.3f);
}

TEST_F(CaffeFilesTest, V0ErrorsNameTheLayer) {
  std::string text = kV0Net;
  text.replace(text.find("\"relu\""), 6, "\"relu\" kernelsize: 3");
  EXPECT_EQ(
      message_of(text, "v0.prototxt"),
      "v0.prototxt: layer relu1: the V0 field kernelsize does not belong to "
      "a 'relu' layer");
  text = kV0Net;
  text.replace(text.find("\"lrn\""), 5, "\"normalize\"");
  EXPECT_EQ(
      message_of(text, "v0.prototxt"),
      "v0.prototxt: layer norm1: unknown V0 layer type 'normalize'");
}

TEST_F(CaffeFilesTest, V0CaffemodelsReadWithTheirBlobs) {
  ::caffe::NetParameter net;
  net.set_name("v0");
  auto* entry = net.add_layers();
  entry->add_bottom("data");
  entry->add_top("conv1");
  auto* v0 = entry->mutable_layer();
  v0->set_name("conv1");
  v0->set_type("conv");
  v0->set_num_output(2);
  v0->set_kernelsize(1);
  auto* weights = v0->add_blobs();
  weights->set_num(2);
  weights->set_channels(3);
  weights->set_height(1);
  weights->set_width(1);
  for (int i = 0; i < 6; ++i) {
    weights->add_data(static_cast<float>(i));
  }
  const std::string file = path("v0.caffemodel");
  std::string bytes;
  ASSERT_TRUE(net.SerializeToString(&bytes));
  std::ofstream(file, std::ios::binary) << bytes;

  const auto model = read_caffemodel(file);
  ASSERT_EQ(model.layers.size(), 1u);
  EXPECT_EQ(model.layers[0].name, "conv1");
  EXPECT_EQ(model.layers[0].type, "Convolution");
  ASSERT_EQ(model.layers[0].blobs.size(), 1u);
  EXPECT_EQ(model.layers[0].blobs[0].shape, (std::vector<int64_t>{2, 3, 1, 1}));
  EXPECT_EQ(model.layers[0].blobs[0].data[5], 5.0f);
}

} // namespace
} // namespace caffe
} // namespace fcnlab
