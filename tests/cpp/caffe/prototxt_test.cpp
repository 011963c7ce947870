#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/fcn_alexnet.h>

#include "caffe_fixtures.h"
#include "prototxt_fixtures.h"
#include "seeded_test.h"

#include <torch/torch.h>

#include <fstream>

namespace fcnlab {
namespace caffe {
namespace {

using PrototxtTest = testing::SeededTest;

// A tiny deploy network in Caffe's V1 layout (enum types, blobs_lr).
const char* kV1Deploy = R"(name: "tiny"
input: "data"
input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8
layers {
  name: "conv" type: CONVOLUTION bottom: "data" top: "conv"
  blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0
  convolution_param { num_output: 4 kernel_size: 3 pad: 1 }
}
layers { name: "relu" type: RELU bottom: "conv" top: "conv" }
layers {
  name: "pool" type: POOLING bottom: "conv" top: "pool"
  pooling_param { pool: AVE kernel_size: 2 stride: 2 }
}
layers { name: "prob" type: SOFTMAX bottom: "pool" top: "prob" }
)";

std::string message_of_parsing(const std::string& text) {
  return testing::error_message_of(
      [&] { parse_prototxt(text, "net.prototxt"); });
}

// testing::kDigitsFcnAlexnet with one piece of text replaced.
std::string digits_with(const std::string& from, const std::string& to) {
  std::string text = testing::kDigitsFcnAlexnet;
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST_F(PrototxtTest, DigitsAllInOneFcnAlexnetEqualsTheBuiltIn) {
  const auto spec =
      parse_prototxt(testing::kDigitsFcnAlexnet, "fcn_alexnet.prototxt");
  EXPECT_EQ(spec.input, "data");
  EXPECT_EQ(spec.output, "score");
  EXPECT_EQ(spec.loss.ignore_label, 255);
  EXPECT_TRUE(spec.loss.normalize);
  EXPECT_EQ(spec.layers.size(), 25u); // shift .. score; no data, loss, accuracy

  models::FcnNet from_text(spec);
  EXPECT_EQ(from_text->num_learnable_parameters(), 56954261);
  EXPECT_EQ(from_text->crop_offsets().at("score"), std::make_pair(18L, 18L));

  models::FcnAlexNet builtin;
  builtin->eval();
  from_text->eval();
  // Same names and shapes, so the built-in's weights load as they are.
  auto target = from_text->named_parameters();
  const auto source = builtin->named_parameters();
  ASSERT_EQ(target.size(), source.size());
  {
    torch::NoGradGuard no_grad;
    torch::nn::init::normal_(builtin->score_fr->weight, 0, 0.01);
    for (const auto& pair : source) {
      target[pair.key()].copy_(pair.value());
    }
  }
  const auto bgr = torch::rand({1, 3, 67, 91}) * 255;
  torch::NoGradGuard no_grad;
  const auto expected = builtin->forward(bgr);
  EXPECT_GT(expected.abs().max().item<float>(), 0.0f);
  EXPECT_TRUE(torch::allclose(from_text->forward(bgr), expected, 1e-5, 1e-5));
}

TEST_F(PrototxtTest, CropOffsetsAreDerivedWhenNotWritten) {
  const auto spec = parse_prototxt(
      digits_with(
          "crop_param { axis: 2 offset: 18 }", "crop_param { axis: 2 }"),
      "net.prototxt");
  EXPECT_EQ(spec.find("score")->crop.offsets, (std::vector<int64_t>{18}));
}

TEST_F(PrototxtTest, V1DeployFileWithEnumTypes) {
  const auto spec = parse_prototxt(kV1Deploy, "tiny.prototxt");
  EXPECT_EQ(spec.input, "data");
  // The trailing Softmax is left out: the network returns scores.
  EXPECT_EQ(spec.output, "pool");
  ASSERT_EQ(spec.layers.size(), 3u);
  EXPECT_EQ(spec.layers[0].params.size(), 2u);
  EXPECT_EQ(spec.layers[0].params[1].lr_mult, 2.0);
  EXPECT_EQ(spec.layers[0].params[1].decay_mult, 0.0);
  EXPECT_EQ(spec.layers[0].line, 4);
  EXPECT_EQ(spec.layers[2].pooling.method, models::PoolMethod::kAverage);
}

TEST_F(PrototxtTest, BuiltInsSurviveARoundTrip) {
  for (const auto& name : models::builtin_net_names()) {
    const auto spec = models::builtin_net(name, 3);
    const std::string text = net_prototxt(spec);
    const auto again = parse_prototxt(text, name + ".prototxt");
    EXPECT_EQ(net_prototxt(again), text) << name;
    // Caffe's mean_value is a float.
    ASSERT_EQ(again.mean.size(), spec.mean.size()) << name;
    for (size_t i = 0; i < spec.mean.size(); ++i) {
      EXPECT_NEAR(again.mean[i], spec.mean[i], 1e-5) << name;
    }
    EXPECT_EQ(again.loss.normalize, spec.loss.normalize) << name;
    EXPECT_EQ(models::num_classes(again), 3) << name;
  }
}

TEST_F(PrototxtTest, ReadsFiles) {
  const std::string file = path("net.prototxt");
  std::ofstream(file) << kV1Deploy;
  EXPECT_EQ(read_prototxt(file).name, "tiny");
  EXPECT_NE(
      testing::error_message_of([&] {
        read_prototxt(path("none.prototxt"));
      }).find("prototxt: cannot open " + path("none.prototxt")),
      std::string::npos);
}

TEST_F(PrototxtTest, UnknownLayerTypeIsNamedWithItsLine) {
  const auto message = message_of_parsing(digits_with(
      R"(name: "relu3" type: "ReLU")", R"(name: "relu3" type: "Swish")"));
  EXPECT_NE(
      message.find("net.prototxt:56: layer relu3: unsupported layer type "
                   "'Swish' (fcnlab runs Convolution"),
      std::string::npos)
      << message;
}

TEST_F(PrototxtTest, StridesOfZeroAreNamed) {
  // Each would divide by zero when sizes are computed.
  const auto pooling = message_of_parsing(digits_with(
      "pooling_param { pool: MAX kernel_size: 3 stride: 2 }",
      "pooling_param { pool: MAX kernel_size: 3 stride: 0 }"));
  EXPECT_NE(
      pooling.find("layer pool1: stride must be at least 1, got 0x0"),
      std::string::npos)
      << pooling;
  const auto convolution = message_of_parsing(
      digits_with("kernel_size: 11 stride: 4", "kernel_size: 11 stride: 0"));
  EXPECT_NE(
      convolution.find("layer conv1: stride must be at least 1, got 0x0"),
      std::string::npos)
      << convolution;
}

TEST_F(PrototxtTest, MissingBottomIsNamed) {
  const auto message = message_of_parsing(digits_with(
      R"(bottom: "norm2" top: "conv3")", R"(bottom: "norm3" top: "conv3")"));
  EXPECT_NE(
      message.find("net.prototxt:52: layer conv3: unknown bottom 'norm3'"),
      std::string::npos)
      << message;
}

TEST_F(PrototxtTest, CycleIsNamed) {
  // conv3 reads conv5's output, which depends on conv3.
  const auto message = message_of_parsing(digits_with(
      R"(bottom: "norm2" top: "conv3")", R"(bottom: "conv5" top: "conv3")"));
  EXPECT_NE(
      message.find("net.prototxt:52: layer conv3: bottom 'conv5' comes from "
                   "layer conv5, which depends on this layer's output: the "
                   "layers form a cycle"),
      std::string::npos)
      << message;
}

TEST_F(PrototxtTest, WrongCropOffsetNamesBoth) {
  const auto message = message_of_parsing(digits_with(
      "crop_param { axis: 2 offset: 18 }",
      "crop_param { axis: 2 offset: 19 }"));
  EXPECT_NE(
      message.find("net.prototxt:103: layer score: crop offset 19 does not "
                   "align upscore with data; the layer geometry gives 18, 18"),
      std::string::npos)
      << message;
}

TEST_F(PrototxtTest, SyntaxErrorHasItsLine) {
  const auto message = message_of_parsing(digits_with(
      "pooling_param { pool: MAX kernel_size: 3 stride: 2 }\n}\n"
      "layer {\n  name: \"norm2\"",
      "pooling_param { pool: MAX kernel_size: 3 stride: 2 }\n}\n"
      "layer {\n  name: \"norm2\" kernel_size: 4"));
  EXPECT_NE(message.find("net.prototxt:49:"), std::string::npos) << message;
  EXPECT_NE(message.find("syntax error"), std::string::npos) << message;
}

} // namespace
} // namespace caffe
} // namespace fcnlab
