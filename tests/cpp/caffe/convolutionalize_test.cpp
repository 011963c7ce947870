// Convolutionalizing the zoo's classifiers: bvlc_alexnet and CaffeNet
// become FCN-Alexnet, VGG16 fcn32s, global-pooling heads lose their pooling;
// with weights the FCN equals net surgery's.
#include <fcnlab/caffe/convolutionalize.h>
#include <fcnlab/caffe/exporter.h>
#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/crop.h>
#include <fcnlab/models/fcn_alexnet.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"
#include "zoo_fixtures.h"

#include <torch/torch.h>

#include <fstream>
#include <sstream>

namespace fcnlab {
namespace caffe {
namespace {

using ConvolutionalizeTest = testing::SeededTest;
using models::NetSpec;

const std::vector<double> kMean{104, 117, 123};

// What makes two layers the same layer of a network: everything but the
// starting weights and the solver's multipliers.
std::string structure(const models::LayerSpec& l) {
  std::ostringstream out;
  out << l.name << " " << models::caffe_type_name(l.type) << " <-";
  for (const auto& b : l.bottoms) {
    out << " " << b;
  }
  out << " ->";
  for (const auto& t : l.tops) {
    out << " " << t;
  }
  if (l.type == models::LayerType::kConvolution ||
      l.type == models::LayerType::kDeconvolution) {
    const auto& c = l.convolution;
    const auto& w = c.window;
    out << " outputs " << c.num_output << " group " << c.group << " bias "
        << c.bias_term << " kernel " << w.kernel_h << "x" << w.kernel_w
        << " stride " << w.stride_h << "x" << w.stride_w << " pad " << w.pad_h
        << "x" << w.pad_w;
  }
  if (l.type == models::LayerType::kPooling) {
    const auto& w = l.pooling.window;
    out << " pool " << static_cast<int>(l.pooling.method) << " kernel "
        << w.kernel_h << " stride " << w.stride_h;
  }
  if (l.type == models::LayerType::kLRN) {
    out << " lrn " << l.lrn.local_size << " " << l.lrn.alpha << " "
        << l.lrn.beta;
  }
  if (l.type == models::LayerType::kDropout) {
    out << " ratio " << l.dropout_ratio;
  }
  return out.str();
}

std::vector<std::string> structures(const NetSpec& spec) {
  std::vector<std::string> all;
  for (const auto& layer : spec.layers) {
    all.push_back(structure(layer));
  }
  return all;
}

models::ConvolutionalizeOptions options(int64_t classes) {
  models::ConvolutionalizeOptions o;
  o.num_classes = classes;
  o.mean = kMean;
  return o;
}

TEST_F(ConvolutionalizeTest, CaffeNetBecomesFcnAlexnetLayerForLayer) {
  const auto fcn = models::convolutionalize(
      parse_prototxt(testing::alexnet_deploy(true), "caffenet.prototxt"),
      options(21));
  const auto builtin =
      models::fcn_alexnet_spec(models::FcnAlexNetOptions(21).mean(kMean));
  EXPECT_EQ(structures(fcn), structures(builtin));
  EXPECT_EQ(models::parameter_count(fcn), models::parameter_count(builtin));
  EXPECT_EQ(models::derive_crop_offsets(fcn).at("score").first, 18);
  EXPECT_EQ(fcn.mean, kMean);
  EXPECT_EQ(fcn.output, "score");
  EXPECT_EQ(fcn.input_height, 0); // it runs at any size
}

TEST_F(ConvolutionalizeTest, AlexnetBecomesFcnAlexnetWithItsOwnNormPoolOrder) {
  const auto fcn = models::convolutionalize(
      parse_prototxt(testing::alexnet_deploy(false), "alexnet.prototxt"),
      options(21));
  const auto builtin =
      models::fcn_alexnet_spec(models::FcnAlexNetOptions(21).mean(kMean));
  EXPECT_EQ(models::parameter_count(fcn), models::parameter_count(builtin));
  EXPECT_EQ(models::derive_crop_offsets(fcn).at("score").first, 18);
  // The layers after conv3 (which reads pool2, not norm2) are the
  // built-in's.
  const auto ours = structures(fcn);
  const auto theirs = structures(builtin);
  ASSERT_EQ(ours.size(), theirs.size());
  for (size_t i = 9; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i], theirs[i]);
  }
  const std::vector<std::string> expected_notes{
      "fc6: InnerProduct on 256x6x6 -> Convolution 6x6",
      "fc7: InnerProduct on 4096x1x1 -> Convolution 1x1",
      "fc8: InnerProduct on 4096x1x1 -> Convolution 1x1",
      "fc8 -> score_fr (21 classes, zero-initialised)",
      "conv1: pad 0 -> 100, so that any input reaches the converted kernels",
      "upscore: fixed bilinear, kernel 63, stride 32, 21 groups; score: crop "
      "offset 18"};
  EXPECT_EQ(fcn.notes, expected_notes);
}

TEST_F(ConvolutionalizeTest, Vgg16BecomesFcn32s) {
  const auto fcn = models::convolutionalize(
      parse_prototxt(testing::vgg16_deploy(), "vgg16.prototxt"), options(21));
  const auto builtin = models::fcn_vgg16_spec("fcn32s", 21);
  EXPECT_EQ(structures(fcn), structures(builtin));
  EXPECT_EQ(models::parameter_count(fcn), models::parameter_count(builtin));
  EXPECT_EQ(models::derive_crop_offsets(fcn).at("score").first, 19);
  EXPECT_EQ(
      fcn.notes.back(),
      "upscore: fixed bilinear, kernel 64, stride 32, 1 group; score: "
      "crop offset 19");
}

TEST_F(ConvolutionalizeTest, WithWeightsTheFcnEqualsNetSurgery) {
  models::FcnNet classifier(models::alexnet_classifier_spec(5));
  const std::string weights = path("alexnet.caffemodel");
  save_classifier_caffemodel(classifier, weights);
  const std::string deploy = path("deploy.prototxt");
  std::ofstream(deploy) << testing::alexnet_deploy(false, 5);

  ConvolutionalizeFiles files;
  files.classifier = deploy;
  files.fcn = path("fcn.prototxt");
  files.weights = weights;
  const auto result = convolutionalize_files(files, options(21));
  EXPECT_EQ(result.out_weights, path("fcn.caffemodel"));
  ASSERT_TRUE(result.report.has_value());
  std::vector<std::string> reshaped;
  for (const auto& entry : result.report->reshaped) {
    reshaped.push_back(entry.layer);
  }
  EXPECT_EQ(reshaped, (std::vector<std::string>{"fc6", "fc7"}));

  models::FcnAlexNet surgery(models::FcnAlexNetOptions(21).mean(kMean));
  load_caffemodel(surgery, weights);
  models::FcnNet converted(read_prototxt(files.fcn));
  const auto report = load_caffemodel(converted, result.out_weights);
  EXPECT_TRUE(report.reshaped.empty()) << report.to_string();
  const auto expected = surgery->named_parameters();
  for (const auto& pair : converted->named_parameters()) {
    ASSERT_TRUE(expected.contains(pair.key())) << pair.key();
    EXPECT_TRUE(torch::equal(pair.value(), expected[pair.key()])) << pair.key();
  }
  EXPECT_EQ(converted->named_parameters().size(), expected.size());
}

TEST_F(ConvolutionalizeTest, GlobalPoolingHeadsLoseTheirPooling) {
  // SqueezeNet's head: conv10 (the classifier), its ReLU, global pooling.
  const auto fcn = models::convolutionalize(
      parse_prototxt(
          R"(name: "sq"
layer { name: "data" type: "Input" top: "data"
  input_param { shape: { dim: 1 dim: 3 dim: 64 dim: 64 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 8 kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "relu_conv1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "conv10" type: "Convolution" bottom: "pool1" top: "conv10"
  convolution_param { num_output: 1000 kernel_size: 1 } }
layer { name: "relu_conv10" type: "ReLU" bottom: "conv10" top: "conv10" }
layer { name: "pool10" type: "Pooling" bottom: "conv10" top: "pool10"
  pooling_param { pool: AVE global_pooling: true } }
layer { name: "prob" type: "Softmax" bottom: "pool10" top: "prob" }
)",
          "sq.prototxt"),
      options(3));
  EXPECT_EQ(
      structures(fcn),
      (std::vector<std::string>{
          "conv1 Convolution <- data -> conv1 outputs 8 group 1 bias 1 "
          "kernel 3x3 stride 2x2 pad 1x1",
          "relu_conv1 ReLU <- conv1 -> conv1",
          "pool1 Pooling <- conv1 -> pool1 pool 0 kernel 2 stride 2",
          "score_fr Convolution <- pool1 -> score_fr outputs 3 group 1 bias 1 "
          "kernel 1x1 stride 1x1 pad 0x0",
          // Stride 4: a kernel of 8 leaves the offset 1 - 3.5 (not whole),
          // 7 leaves -2.
          "upscore Deconvolution <- score_fr -> upscore outputs 3 group 3 "
          "bias 0 kernel 7x7 stride 4x4 pad 0x0",
          "score Crop <- upscore data -> score"}));
  EXPECT_EQ(fcn.notes.at(1), "dropped: pool10, relu_conv10");

  // Any size runs, and the scores cover the input.
  models::FcnNet net(fcn);
  torch::NoGradGuard no_grad;
  EXPECT_EQ(
      net->forward(torch::rand({1, 3, 37, 50})).sizes(),
      (std::vector<int64_t>{1, 3, 37, 50}));
}

TEST_F(ConvolutionalizeTest, WhatCannotBeConvertedIsNamed) {
  EXPECT_NE(
      testing::error_message_of([] {
        models::convolutionalize(models::builtin_net("fcn32s", 21));
      }).find("fcn32s: no classifier head to convolutionalize"),
      std::string::npos);
  const std::string taken = R"(name: "t"
input: "data" input_shape { dim: 1 dim: 3 dim: 4 dim: 4 }
layer { name: "score" type: "Convolution" bottom: "data" top: "conv"
  convolution_param { num_output: 2 kernel_size: 1 } }
layer { name: "fc" type: "InnerProduct" bottom: "conv" top: "fc"
  inner_product_param { num_output: 2 } }
)";
  EXPECT_NE(
      testing::error_message_of([&] {
        models::convolutionalize(parse_prototxt(taken, "t.prototxt"));
      }).find("t.prototxt:3: layer score: the name score is taken"),
      std::string::npos);
  const std::string transposed = R"(name: "t"
input: "data" input_shape { dim: 1 dim: 3 dim: 4 dim: 4 }
layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc"
  inner_product_param { num_output: 2 transpose: true } }
)";
  EXPECT_NE(
      testing::error_message_of([&] {
        models::convolutionalize(parse_prototxt(transposed, "t.prototxt"));
      }).find("t.prototxt:3: layer fc: a transposed InnerProduct"),
      std::string::npos);
}

TEST_F(ConvolutionalizeTest, ScoresWithoutOneClassifierLayerAreNamed) {
  // A residual sum feeds the global pooling: no single layer with weights
  // scores the classes.
  const std::string residual = R"(name: "r"
input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 3 kernel_size: 1 } }
layer { name: "sum" type: "Eltwise" bottom: "conv1" bottom: "data" top: "sum" }
layer { name: "pool" type: "Pooling" bottom: "sum" top: "pool"
  pooling_param { pool: AVE global_pooling: true } }
)";
  EXPECT_NE(
      testing::error_message_of([&] {
        models::convolutionalize(parse_prototxt(residual, "r.prototxt"));
      })
          .find("r.prototxt:5: layer sum: the classifier's scores come from a "
                "Eltwise of several bottoms, not from one layer with weights"),
      std::string::npos);
  models::ConvolutionalizeOptions two_means;
  two_means.mean = {104, 117};
  EXPECT_NE(
      testing::error_message_of([&] {
        models::convolutionalize(
            parse_prototxt(testing::alexnet_deploy(true), "a.prototxt"),
            two_means);
      }).find("convolutionalize: the mean takes 1 value or 3 (B, G, R), got 2"),
      std::string::npos);
}

} // namespace
} // namespace caffe
} // namespace fcnlab
