// The model zoo's classifiers in their deploy and train_val styles:
// InnerProduct, BatchNorm + Scale, Flatten, global pooling, Concat and the
// declared input sizes they run at.
#include <fcnlab/caffe/exporter.h>
#include <fcnlab/caffe/importer.h>
#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/infer/segment.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/models/summary.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"
#include "zoo_fixtures.h"

#include <torch/torch.h>

namespace fcnlab {
namespace caffe {
namespace {

using ZooNetsTest = testing::SeededTest;
using testing::error_message_of;
using Shape = std::vector<int64_t>;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(ZooNetsTest, AlexnetDeployHasItsPublishedParameterCount) {
  const auto spec =
      parse_prototxt(testing::alexnet_deploy(false), "deploy.prototxt");
  EXPECT_EQ(spec.input_height, 227);
  EXPECT_EQ(spec.input_width, 227);
  EXPECT_EQ(spec.output, "fc8"); // the final Softmax is left out
  EXPECT_EQ(models::num_classes(spec), 1000);
  // Weights + biases per layer (grouped layers see half the channels).
  const int64_t expected = (96 * 3 * 11 * 11 + 96) + (256 * 48 * 5 * 5 + 256) +
      (384 * 256 * 3 * 3 + 384) + (384 * 192 * 3 * 3 + 384) +
      (256 * 192 * 3 * 3 + 256) + (4096 * 256 * 6 * 6 + 4096) +
      (4096 * 4096 + 4096) + (1000 * 4096 + 1000);
  EXPECT_EQ(expected, 60965224); // the count published for Alexnet
  EXPECT_EQ(models::parameter_count(spec), expected);

  const auto [height, width] = models::default_input_size(spec);
  const auto summary = models::summarize(spec, height, width);
  for (const auto& row : summary.layers) {
    if (row.name == "fc6") {
      EXPECT_EQ(row.output_shape, (Shape{4096, 1, 1}));
      EXPECT_EQ(row.flops, 2.0 * 4096 * 9216);
      EXPECT_FALSE(row.has_map);
    }
  }
  EXPECT_TRUE(contains(
      error_message_of([&] { models::summarize(spec, 300, 300); }),
      "input 300x300 gives deploy.prototxt:"));
}

TEST_F(ZooNetsTest, InnerProductBlobsRunAsTheirConvolutionTwins) {
  // The same classifier twice: fc* as convolutions (fcnlab's pretraining
  // net) and, through the exported files, as Caffe's InnerProducts.
  models::FcnNet convolutional(models::alexnet_classifier_spec(3));
  const std::string weights = path("alexnet.caffemodel");
  save_classifier_caffemodel(convolutional, weights);
  const auto spec = parse_prototxt(
      classifier_deploy_prototxt(convolutional->spec()), "alexnet.prototxt");
  ASSERT_EQ(spec.find("fc6")->type, models::LayerType::kInnerProduct);
  models::FcnNet inner_products(spec);
  const auto report = load_caffemodel(inner_products, weights);
  EXPECT_TRUE(report.reshaped.empty()) << report.to_string();
  EXPECT_TRUE(report.kept_initialised.empty()) << report.to_string();
  EXPECT_TRUE(contains(
      report.to_string(), "copied           fc6: InnerProduct 4096x9216"))
      << report.to_string();

  convolutional->eval();
  inner_products->eval();
  torch::NoGradGuard no_grad;
  const auto image = torch::rand({2, 3, 227, 227}) * 255;
  const auto expected = convolutional->forward(image);
  const auto scores = inner_products->forward(image);
  EXPECT_EQ(scores.sizes(), (Shape{2, 3, 1, 1}));
  EXPECT_TRUE(torch::allclose(scores, expected, 1e-3, 1e-4));

  EXPECT_TRUE(contains(
      error_message_of([&] {
        inner_products->forward(torch::rand({1, 3, 259, 259}));
      }),
      "alexnet.prototxt:"));
  const auto message = error_message_of([&] {
    inner_products->forward(torch::rand({1, 3, 259, 259}));
  });
  EXPECT_TRUE(contains(
      message,
      "layer fc6: InnerProduct takes 9216 values per image (its bottom "
      "pool5 at the declared input 227x227), got [256, 7, 7] = 12544"))
      << message;
  EXPECT_TRUE(contains(
      error_message_of([&] { deploy_prototxt(spec, 259, 259); }),
      "layer fc6 takes 9216 values per image at the declared input 227x227, "
      "and 12544 at 259x259"));
}

// ResNet's building blocks: a convolution without bias, BatchNorm with the
// stored statistics, Scale with a bias, a residual sum, global average
// pooling and the classifier.
const char* kResNetStyle = R"(name: "ResNet-tiny"
input: "data"
input_dim: 1 input_dim: 3 input_dim: 32 input_dim: 32
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 8 kernel_size: 7 pad: 3 stride: 2 bias_term: false } }
layer { name: "bn_conv1" type: "BatchNorm" bottom: "conv1" top: "conv1"
  param { lr_mult: 1 } batch_norm_param { use_global_stats: true } }
layer { name: "scale_conv1" type: "Scale" bottom: "conv1" top: "conv1"
  scale_param { bias_term: true } }
layer { name: "conv1_relu" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { kernel_size: 3 stride: 2 pool: MAX } }
layer { name: "res2a_branch2a" type: "Convolution" bottom: "pool1" top: "res2a_branch2a"
  convolution_param { num_output: 8 kernel_size: 1 bias_term: false } }
layer { name: "bn2a_branch2a" type: "BatchNorm" bottom: "res2a_branch2a" top: "res2a_branch2a"
  batch_norm_param { use_global_stats: true } }
layer { name: "scale2a_branch2a" type: "Scale" bottom: "res2a_branch2a" top: "res2a_branch2a"
  scale_param { bias_term: true } }
layer { name: "res2a" type: "Eltwise" bottom: "pool1" bottom: "res2a_branch2a" top: "res2a" }
layer { name: "res2a_relu" type: "ReLU" bottom: "res2a" top: "res2a" }
layer { name: "pool5" type: "Pooling" bottom: "res2a" top: "pool5"
  pooling_param { pool: AVE global_pooling: true } }
layer { name: "fc10" type: "InnerProduct" bottom: "pool5" top: "fc10"
  inner_product_param { num_output: 10 } }
layer { name: "prob" type: "Softmax" bottom: "fc10" top: "prob" }
)";

TEST_F(ZooNetsTest, ResNetStyleDeployMatchesPlainATen) {
  const auto spec = parse_prototxt(kResNetStyle, "resnet.prototxt");
  EXPECT_EQ(spec.input_height, 32);
  // conv1, its BatchNorm (mean, variance, factor) and Scale (factor, bias),
  // the branch likewise, fc10 on the 8 pooled channels.
  const int64_t expected = 8 * 3 * 7 * 7 + (8 + 8 + 1) + (8 + 8) + 8 * 8 +
      (8 + 8 + 1) + (8 + 8) + (8 * 10 + 10);
  EXPECT_EQ(models::parameter_count(spec), expected);

  models::FcnNet net(spec);
  EXPECT_EQ(net->num_learnable_parameters(), expected - 2 * (8 + 8 + 1));
  auto p = net->named_parameters();
  {
    torch::NoGradGuard no_grad;
    for (auto& pair : p) {
      pair.value().uniform_(0.5, 1.5);
    }
  }
  net->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({2, 3, 32, 32}) * 255;
  const double eps = 1e-5;
  auto normalize = [&](const torch::Tensor& y,
                       const std::string& bn,
                       const std::string& scale) {
    const auto factor = p[bn + ".factor"];
    const auto mean = (p[bn + ".mean"] / factor).view({1, -1, 1, 1});
    const auto variance = (p[bn + ".variance"] / factor).view({1, -1, 1, 1});
    return (y - mean) / (variance + eps).sqrt() *
        p[scale + ".weight"].view({1, -1, 1, 1}) +
        p[scale + ".bias"].view({1, -1, 1, 1});
  };
  auto y = torch::conv2d(x, p["conv1.weight"], {}, 2, 3);
  y = torch::relu(normalize(y, "bn_conv1", "scale_conv1"));
  const auto pooled = torch::max_pool2d(y, 3, 2, 0, 1, /*ceil_mode=*/true);
  auto branch = torch::conv2d(pooled, p["res2a_branch2a.weight"]);
  branch = normalize(branch, "bn2a_branch2a", "scale2a_branch2a");
  const auto features = torch::relu(pooled + branch).mean({2, 3});
  const auto expected_scores =
      features.matmul(p["fc10.weight"].t()) + p["fc10.bias"];
  const auto scores = net->forward(x);
  EXPECT_EQ(scores.sizes(), (Shape{2, 10, 1, 1}));
  EXPECT_TRUE(
      torch::allclose(scores.view({2, 10}), expected_scores, 1e-3, 1e-3));
}

// GoogLeNet's train_val shape: a Data layer with crop_size, an inception
// block (Concat), an auxiliary head with its own loss, accuracy layers in
// the TEST phase, the main head after a 3x3 average pooling.
const char* kGoogLeNetStyle = R"(name: "GoogleNet-tiny"
layer { name: "data" type: "Data" top: "data" top: "label"
  include { phase: TRAIN }
  transform_param { mirror: true crop_size: 24 mean_value: 104 mean_value: 117 mean_value: 123 }
  data_param { source: "train_lmdb" batch_size: 32 backend: LMDB } }
layer { name: "data" type: "Data" top: "data" top: "label"
  include { phase: TEST }
  transform_param { crop_size: 24 }
  data_param { source: "val_lmdb" batch_size: 50 backend: LMDB } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 8 kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "inc/1x1" type: "Convolution" bottom: "conv1" top: "inc/1x1"
  convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "inc/3x3" type: "Convolution" bottom: "conv1" top: "inc/3x3"
  convolution_param { num_output: 6 kernel_size: 3 pad: 1 } }
layer { name: "inc/output" type: "Concat" bottom: "inc/1x1" bottom: "inc/3x3" top: "inc/output" }
layer { name: "loss1/ave_pool" type: "Pooling" bottom: "inc/output" top: "loss1/ave_pool"
  pooling_param { pool: AVE kernel_size: 5 stride: 3 } }
layer { name: "loss1/fc" type: "InnerProduct" bottom: "loss1/ave_pool" top: "loss1/fc"
  inner_product_param { num_output: 5 } }
layer { name: "loss1/loss" type: "SoftmaxWithLoss" bottom: "loss1/fc" bottom: "label"
  top: "loss1/loss1" loss_weight: 0.3 }
layer { name: "pool5" type: "Pooling" bottom: "inc/output" top: "pool5"
  pooling_param { pool: AVE kernel_size: 3 stride: 3 } }
layer { name: "pool5/drop" type: "Dropout" bottom: "pool5" top: "pool5"
  dropout_param { dropout_ratio: 0.4 } }
layer { name: "loss3/classifier" type: "InnerProduct" bottom: "pool5" top: "loss3/classifier"
  inner_product_param { num_output: 5 weight_filler { type: "xavier" } } }
layer { name: "loss3/loss3" type: "SoftmaxWithLoss" bottom: "loss3/classifier" bottom: "label"
  top: "loss3/loss3" loss_weight: 1 }
layer { name: "loss3/top-5" type: "Accuracy" bottom: "loss3/classifier" bottom: "label"
  top: "loss3/top-5" include { phase: TEST } accuracy_param { top_k: 5 } }
)";

TEST_F(ZooNetsTest, GoogLeNetStyleTrainValRunsItsChosenHead) {
  EXPECT_TRUE(contains(
      error_message_of(
          [&] { parse_prototxt(kGoogLeNetStyle, "train_val.prototxt"); }),
      "2 loss layers (loss1/loss, loss3/loss3)"));
  const auto spec = parse_prototxt(
      kGoogLeNetStyle, "train_val.prototxt", PrototxtOptions{"loss3/loss3"});
  EXPECT_EQ(spec.input_height, 24); // the TRAIN data layer's crop_size
  EXPECT_EQ(spec.output, "loss3/classifier");
  EXPECT_EQ(spec.find("loss1/fc"), nullptr);
  // 24 -> conv1 12 -> pool5 4: 10 channels x 4 x 4 into the classifier.
  const auto flow = models::infer_channels(spec);
  EXPECT_EQ(flow.layer_inputs.back(), 10 * 4 * 4);
  EXPECT_EQ(flow.output, 5);

  models::FcnNet net(spec);
  net->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(
      net->forward(torch::rand({3, 3, 24, 24}) * 255).sizes(),
      (Shape{3, 5, 1, 1}));
}

// SqueezeNet's head: a 1x1 convolution to the classes, ReLU, global
// average pooling: no InnerProduct, so any input size runs.
const char* kSqueezeNetStyle = R"(name: "SqueezeNet-tiny"
layer { name: "data" type: "Input" top: "data"
  input_param { shape: { dim: 10 dim: 3 dim: 227 dim: 227 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 8 kernel_size: 3 stride: 2 } }
layer { name: "relu_conv1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "fire2/squeeze1x1" type: "Convolution" bottom: "conv1" top: "fire2/squeeze1x1"
  convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "fire2/expand1x1" type: "Convolution" bottom: "fire2/squeeze1x1" top: "fire2/expand1x1"
  convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "fire2/expand3x3" type: "Convolution" bottom: "fire2/squeeze1x1" top: "fire2/expand3x3"
  convolution_param { num_output: 4 pad: 1 kernel_size: 3 } }
layer { name: "fire2/concat" type: "Concat" bottom: "fire2/expand1x1" bottom: "fire2/expand3x3" top: "fire2/concat" }
layer { name: "conv10" type: "Convolution" bottom: "fire2/concat" top: "conv10"
  convolution_param { num_output: 6 kernel_size: 1 } }
layer { name: "relu_conv10" type: "ReLU" bottom: "conv10" top: "conv10" }
layer { name: "pool10" type: "Pooling" bottom: "conv10" top: "pool10"
  pooling_param { pool: AVE global_pooling: true } }
layer { name: "prob" type: "Softmax" bottom: "pool10" top: "prob" }
)";

TEST_F(ZooNetsTest, SqueezeNetStyleGlobalPoolingRunsAtAnySize) {
  const auto spec = parse_prototxt(kSqueezeNetStyle, "squeezenet.prototxt");
  EXPECT_EQ(spec.output, "pool10");
  models::FcnNet net(spec);
  net->eval();
  torch::NoGradGuard no_grad;
  for (const int64_t side : {227, 64}) {
    const auto image = torch::rand({1, 3, side, side}) * 255;
    const auto trace = net->trace(image);
    ASSERT_EQ(trace.back().first, "pool10");
    // The scores are conv10's (after its ReLU) averaged over the plane.
    const auto conv10 = trace[trace.size() - 2].second;
    EXPECT_TRUE(torch::allclose(
        net->forward(image), conv10.mean({2, 3}, true), 1e-4, 1e-5));
  }
  // Segmenting needs scores at the image's size.
  EXPECT_TRUE(contains(
      error_message_of([&] {
        infer::segment(net, torch::zeros({40, 50, 3}, torch::kByte));
      }),
      "SqueezeNet-tiny scores a 1x1 map for a 40x50 image; segment needs "
      "scores at the image's size"));
}

TEST_F(ZooNetsTest, ClassifierErrorsNameTheLayer) {
  const std::string undeclared = R"(name: "n"
input: "data"
layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc"
  inner_product_param { num_output: 2 } }
)";
  EXPECT_TRUE(contains(
      error_message_of([&] { parse_prototxt(undeclared, "n.prototxt"); }),
      "n.prototxt:3: layer fc: InnerProduct counts its inputs at the "
      "network's input size, and none is declared"));
  const std::string sized =
      "name: \"n\"\ninput: \"data\"\n"
      "input_shape { dim: 1 dim: 3 dim: 4 dim: 4 }\n";
  EXPECT_TRUE(contains(
      error_message_of([&] {
        parse_prototxt(
            sized + R"(layer { name: "fc" type: "InnerProduct"
  bottom: "data" top: "fc" inner_product_param { num_output: 2 axis: 2 } })",
            "n.prototxt");
      }),
      "n.prototxt:4: layer fc: InnerProduct runs over axis 1 (each item's C "
      "x H x W), got axis 2"));
  EXPECT_TRUE(contains(
      error_message_of([&] {
        parse_prototxt(
            sized + R"(layer { name: "flat" type: "Flatten"
  bottom: "data" top: "flat" flatten_param { axis: 2 } })",
            "n.prototxt");
      }),
      "n.prototxt:4: layer flat: Flatten runs from axis 1 to the last"));
  EXPECT_TRUE(contains(
      error_message_of([&] {
        parse_prototxt(
            sized + R"(layer { name: "pool" type: "Pooling"
  bottom: "data" top: "pool" pooling_param { kernel_size: 9 stride: 9 } }
layer { name: "conv" type: "Convolution" bottom: "pool" top: "conv"
  convolution_param { num_output: 2 kernel_size: 3 } }
layer { name: "fc" type: "InnerProduct" bottom: "conv" top: "fc"
  inner_product_param { num_output: 2 } })",
            "n.prototxt");
      }),
      "n.prototxt:8: layer fc: the declared input 4x4 leaves no plane for "
      "this InnerProduct to read"));
  EXPECT_TRUE(contains(
      error_message_of([&] {
        parse_prototxt(
            R"(name: "n"
layer { name: "data" type: "Input" top: "data"
  input_param { shape { dim: 1 dim: 3 dim: 0 dim: 4 } } })",
            "n.prototxt");
      }),
      "n.prototxt:2: layer data: input 'data' is declared 0x4; expected "
      "sides of 1 to 1048576"));
}

TEST_F(ZooNetsTest, DeclaredSizeAndBlobsSurviveTheFilesFcnlabWrites) {
  const auto spec = parse_prototxt(kResNetStyle, "resnet.prototxt");
  const auto again = parse_prototxt(net_prototxt(spec), "train.prototxt");
  EXPECT_EQ(again.input_height, 32);
  EXPECT_EQ(again.input_width, 32);
  EXPECT_EQ(models::parameter_count(again), models::parameter_count(spec));

  models::FcnNet net(spec);
  {
    torch::NoGradGuard no_grad;
    for (auto& parameter : net->parameters()) {
      parameter.uniform_(0.5, 1.5);
    }
  }
  const std::string file = path("resnet.caffemodel");
  save_caffemodel(net, file);
  models::FcnNet loaded(parse_prototxt(deploy_prototxt(spec), "deploy"));
  const auto report = load_caffemodel(loaded, file);
  EXPECT_TRUE(report.kept_initialised.empty()) << report.to_string();
  const auto expected = net->named_parameters();
  for (const auto& pair : loaded->named_parameters()) {
    EXPECT_TRUE(torch::equal(pair.value(), expected[pair.key()])) << pair.key();
  }
}

} // namespace
} // namespace caffe
} // namespace fcnlab
