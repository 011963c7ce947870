#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/models/layers/scale.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <torch/torch.h>

#include <map>

namespace fcnlab {
namespace models {
namespace {

using FcnNetTest = testing::SeededTest;

// Every layer type beside the FCN ones, each with a non-default option, in
// one small network whose result the test recomputes with plain ATen ops.
const char* kEveryType = R"(name: "every_type"
layer { name: "input" type: "Input" top: "data"
        transform_param { mean_value: 100 mean_value: 110 mean_value: 120 } }
layer { name: "power" type: "Power" bottom: "data" top: "power"
        power_param { power: 2 scale: 0.01 shift: 0.5 } }
layer { name: "conv" type: "Convolution" bottom: "power" top: "conv"
        convolution_param { num_output: 4 kernel_size: 3 dilation: 2 pad: 2
                            weight_filler { type: "gaussian" std: 0.1 }
                            bias_filler { type: "constant" value: 0.2 } } }
layer { name: "leaky" type: "ReLU" bottom: "conv" top: "leaky"
        relu_param { negative_slope: 0.1 } }
layer { name: "ave" type: "Pooling" bottom: "leaky" top: "ave"
        pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "scale" type: "Scale" bottom: "ave" top: "scale"
        scale_param { filler { type: "uniform" min: 0.5 max: 2 } bias_term: true } }
layer { name: "sum" type: "Eltwise" bottom: "ave" bottom: "scale" top: "sum"
        eltwise_param { operation: SUM coeff: 2 coeff: -1 } }
layer { name: "prod" type: "Eltwise" bottom: "sum" bottom: "ave" top: "prod"
        eltwise_param { operation: PROD } }
layer { name: "max" type: "Eltwise" bottom: "prod" bottom: "sum" top: "max"
        eltwise_param { operation: MAX } }
layer { name: "cat" type: "Concat" bottom: "max" bottom: "ave" top: "cat" }
layer { name: "global" type: "Pooling" bottom: "cat" top: "global"
        pooling_param { pool: MAX global_pooling: true } }
layer { name: "scores" type: "Eltwise" bottom: "cat" bottom: "global" top: "scores"
        eltwise_param { operation: SUM } }
layer { name: "prob" type: "Softmax" bottom: "scores" top: "prob" }
layer { name: "out" type: "Power" bottom: "prob" top: "out" }
)";

TEST_F(FcnNetTest, EveryLayerTypeComputesWhatAtenComputes) {
  FcnNet net(caffe::parse_prototxt(kEveryType, "every_type.prototxt"));
  EXPECT_EQ(net->num_classes(), 8);
  auto params = net->named_parameters();
  EXPECT_TRUE(torch::allclose(params["conv.bias"], torch::full({4}, 0.2f)));
  const auto factors = params["scale.weight"];
  EXPECT_GE(factors.min().item<float>(), 0.5f);
  EXPECT_LE(factors.max().item<float>(), 2.0f);
  torch::NoGradGuard no_grad;
  params["scale.bias"].uniform_(-1, 1);

  const auto bgr = torch::rand({2, 3, 11, 13}) * 255;
  const auto x =
      bgr - torch::tensor({100.0f, 110.0f, 120.0f}).view({1, 3, 1, 1});
  const auto power = (x * 0.01 + 0.5).pow(2);
  const auto conv =
      torch::conv2d(power, params["conv.weight"], params["conv.bias"], 1, 2, 2);
  const auto leaky = torch::leaky_relu(conv, 0.1);
  const auto ave = torch::avg_pool2d(leaky, 3, 2, 1, /*ceil_mode=*/true);
  const auto scale = ave * factors.view({1, 4, 1, 1}) +
      params["scale.bias"].view({1, 4, 1, 1});
  const auto sum = 2 * ave - scale;
  const auto max = torch::maximum(sum * ave, sum);
  const auto cat = torch::cat({max, ave}, 1);
  const auto scores = cat + cat.amax({2, 3}, true);
  const auto expected = torch::softmax(scores, 1);

  net->eval();
  const auto ours = net->forward(bgr);
  EXPECT_EQ(ours.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(ours, expected, 1e-5, 1e-6));
  EXPECT_TRUE(
      torch::allclose(net->trace(bgr).back().second, expected, 1e-5, 1e-6));
}

TEST_F(FcnNetTest, AveragePoolingDividesLikeCaffe) {
  // Caffe divides by the window clipped to the padded input: a 3x3 window
  // at stride 2, pad 1, over a 4x4 input of ones; the last window starts at
  // row 3 and covers rows 3..4 of which row 4 is padding.
  LayerSpec pool;
  pool.name = "pool";
  pool.type = LayerType::kPooling;
  pool.bottoms = {"data"};
  pool.tops = {"pool"};
  pool.pooling.method = PoolMethod::kAverage;
  pool.pooling.window = {3, 3, 2, 2, 1, 1, 1, 1};
  NetSpec spec;
  spec.name = "pool";
  spec.layers = {pool};
  spec.output = "pool";
  FcnNet net(spec);
  const auto y = net->forward(torch::ones({1, 3, 4, 4}));
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({1, 3, 3, 3}));
  // Corner window: 2x2 real ones over a 3x3 window (top-left padded).
  EXPECT_FLOAT_EQ(y[0][0][0][0].item<float>(), 4.0f / 9);
  // Middle: 3x3 real ones.
  EXPECT_FLOAT_EQ(y[0][0][1][1].item<float>(), 1.0f);
  // Last: rows 3..5 clipped to the padded input (3..4) count 2x2, of which
  // one element (3, 3) is real.
  EXPECT_FLOAT_EQ(y[0][0][2][2].item<float>(), 1.0f / 4);
}

// FCN-8s with random weights everywhere but its fixed upsamplings.
FcnNet random_fcn8s(int64_t classes) {
  FcnNet net(builtin_net("fcn8s", classes));
  torch::NoGradGuard no_grad;
  for (auto& parameter : net->layer_parameters()) {
    if (parameter.rule.lr_mult != 0) {
      parameter.tensor.normal_(0, parameter.tensor.dim() > 1 ? 0.02 : 0.1);
    }
  }
  return net;
}

TEST_F(FcnNetTest, FastPathsMatchThePlainLayersOnFcn8s) {
  auto net = random_fcn8s(5);
  net->eval();
  const auto bgr = torch::rand({1, 3, 37, 29}) * 255;
  {
    torch::NoGradGuard no_grad;
    const auto plain = net->trace(bgr).back().second;
    const auto fast = net->forward(bgr);
    EXPECT_GT(plain.abs().max().item<float>(), 0.0f);
    EXPECT_TRUE(torch::allclose(fast, plain, 1e-4, 1e-4));
  }
  // Gradients through GEMM convolutions and separable upsamplings (eval
  // mode keeps dropout out of the comparison).
  auto gradients = [&](bool fast) {
    net->zero_grad();
    const auto scores =
        fast ? net->forward(bgr) : net->trace(bgr).back().second;
    (scores * scores).sum().backward();
    std::map<std::string, torch::Tensor> grads;
    for (const auto& pair : net->named_parameters()) {
      if (pair.value().requires_grad()) {
        grads[pair.key()] = pair.value().grad().clone();
      }
    }
    return grads;
  };
  const auto plain = gradients(false);
  const auto fast = gradients(true);
  for (const auto& [name, grad] : plain) {
    const double scale = grad.abs().max().item<double>() + 1e-12;
    EXPECT_LT((fast.at(name) - grad).abs().max().item<double>() / scale, 1e-3)
        << name;
  }
}

// Caffe's in-place ReLU must not change what other layers read: the input
// image, or a convolution output that a Crop read before the ReLU.
const char* kInPlaceRelus = R"(name: "in_place"
input: "data"
layer { name: "relu_data" type: "ReLU" bottom: "data" top: "data" }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
        convolution_param { num_output: 2 kernel_size: 1
                            weight_filler { type: "gaussian" std: 1 }
                            bias_filler { type: "constant" value: -100 } } }
layer { name: "crop" type: "Crop" bottom: "conv" bottom: "data" top: "crop"
        crop_param { axis: 2 offset: 0 } }
layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
layer { name: "out" type: "Eltwise" bottom: "crop" bottom: "conv" top: "out"
        eltwise_param { operation: SUM coeff: 1 coeff: -1 } }
)";

TEST_F(FcnNetTest, InPlaceReluKeepsWhatOthersRead) {
  FcnNet net(caffe::parse_prototxt(kInPlaceRelus, "in_place.prototxt"));
  net->eval();
  const auto bgr = torch::randn({1, 3, 9, 7}) * 100;
  const auto original = bgr.clone();
  torch::NoGradGuard no_grad;
  const auto fast = net->forward(bgr);
  EXPECT_TRUE(torch::equal(bgr, original));
  const auto plain = net->trace(bgr).back().second;
  // crop - relu(conv) = min(conv, 0): mostly negative with the -100 bias.
  EXPECT_LT(plain.min().item<float>(), -1.0f);
  EXPECT_TRUE(torch::allclose(fast, plain));
}

TEST_F(FcnNetTest, LayerCallsSeeAndReplaceEachLayer) {
  auto net = random_fcn8s(4);
  net->eval();
  const auto bgr = torch::rand({1, 3, 29, 23}) * 255;
  torch::NoGradGuard no_grad;
  const auto plain = net->trace(bgr);

  // Each layer's own output, in order, from forward_layer.
  std::vector<std::string> seen;
  const auto same = net->run_layers(
      bgr, [&](size_t index, const std::vector<torch::Tensor>& bottoms) {
        seen.push_back(net->spec().layers[index].name);
        EXPECT_EQ(bottoms.size(), net->spec().layers[index].bottoms.size());
        return net->forward_layer(index, bottoms);
      });
  ASSERT_EQ(seen.size(), plain.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i], plain[i].first);
  }
  EXPECT_TRUE(torch::equal(same, plain.back().second));

  // A middle layer's output replaced by zeros is the net whose score_fr
  // weights are zero; the last layer's replacement is the output.
  const auto& layers = net->spec().layers;
  const auto replaced = [&](const std::string& name, auto change) {
    return net->run_layers(
        bgr, [&](size_t index, const std::vector<torch::Tensor>& bottoms) {
          auto y = net->forward_layer(index, bottoms);
          return layers[index].name == name ? change(y) : y;
        });
  };
  auto silenced = std::dynamic_pointer_cast<FcnNetImpl>(net->clone());
  silenced->named_parameters()["score_fr.weight"].zero_();
  silenced->named_parameters()["score_fr.bias"].zero_();
  EXPECT_TRUE(torch::allclose(
      replaced("score_fr", [](const auto& y) { return torch::zeros_like(y); }),
      silenced->trace(bgr).back().second,
      1e-4,
      1e-4));
  EXPECT_TRUE(torch::allclose(
      replaced(plain.back().first, [](const auto& y) { return y * 2; }),
      plain.back().second * 2));

  EXPECT_THROW(net->forward_layer(layers.size(), {bgr}), c10::IndexError);
  EXPECT_THROW(net->forward_layer(0, {bgr, bgr}), c10::ValueError);
  EXPECT_THROW(
      net->run_layers(
          bgr,
          [](size_t, const std::vector<torch::Tensor>&) {
            return torch::Tensor();
          }),
      c10::ValueError);
}

TEST_F(FcnNetTest, ChangedUpsamplingWeightsLeaveTheFastPath) {
  auto net = random_fcn8s(3);
  net->eval();
  const auto bgr = torch::rand({1, 3, 21, 17}) * 255;
  torch::NoGradGuard no_grad;
  net->forward(bgr); // caches "bilinear" for the upsamplings
  net->named_parameters()["upscore8.weight"][1][2].fill_(0.01f);
  EXPECT_TRUE(torch::allclose(
      net->forward(bgr), net->trace(bgr).back().second, 1e-4, 1e-4));
}

TEST_F(FcnNetTest, CloneCopiesWeightsAndFrozenParameters) {
  auto net = random_fcn8s(2);
  auto copy = std::dynamic_pointer_cast<FcnNetImpl>(net->clone());
  ASSERT_TRUE(copy);
  const auto mine = net->named_parameters();
  for (const auto& pair : copy->named_parameters()) {
    EXPECT_TRUE(torch::equal(pair.value(), mine[pair.key()])) << pair.key();
    EXPECT_EQ(pair.value().requires_grad(), mine[pair.key()].requires_grad());
  }
}

TEST_F(FcnNetTest, WeightsTooLargeToAllocateNameTheLayer) {
  // 2e9 x 3 x 100 x 100 floats: 240 TB, beyond any address space.
  const char* huge = R"(name: "huge"
input: "data"
layer { name: "enormous" type: "Convolution" bottom: "data" top: "out"
        convolution_param { num_output: 2000000000 kernel_size: 100 } }
)";
  const auto message = testing::error_message_of(
      [&] { FcnNet net(caffe::parse_prototxt(huge, "huge.prototxt")); });
  EXPECT_EQ(message.rfind("huge.prototxt:3: layer enormous: ", 0), 0u)
      << message;
  EXPECT_NE(message.find("allocate"), std::string::npos) << message;
}

TEST_F(FcnNetTest, OffsetThatTheGeometryContradictsIsNamed) {
  NetSpec spec = builtin_net("fcn32s");
  spec.layers.back().crop.offsets = {19};
  // With conv1_1 padded by 101 instead of 100, 19 no longer aligns.
  spec.layers.front().convolution.window.pad_h = 101;
  spec.layers.front().convolution.window.pad_w = 101;
  EXPECT_NE(
      testing::error_message_of([&] { FcnNet net(spec); })
          .find(
              "fcn32s: layer score: crop offset 19 does not align upscore with "
              "data; the layer geometry gives 20, 20"),
      std::string::npos);
}

TEST_F(FcnNetTest, LoadParametersCopiesEveryParameterOrNothing) {
  const auto source = random_fcn8s(3);
  std::map<std::string, torch::Tensor> state;
  for (const auto& pair : source->named_parameters()) {
    state.emplace(pair.key(), pair.value().detach().clone());
  }
  FcnNet target(builtin_net("fcn8s", 3));
  const auto untouched = target->named_parameters()["score_fr.weight"].clone();

  auto missing = state;
  missing.erase("conv1_1.bias");
  auto extra = state;
  extra.emplace("conv9.weight", torch::zeros({1}));
  auto reshaped = state;
  reshaped["score_fr.bias"] = torch::zeros({4});
  for (const auto& [bad, message] :
       {std::pair{&missing, "state_dict lacks conv1_1.bias"},
        std::pair{&extra, "state_dict has conv9.weight, which "},
        std::pair{&reshaped, "score_fr.bias has shape [4], expected [3]"}}) {
    const auto error =
        testing::error_message_of([&] { target->load_parameters(*bad); });
    EXPECT_NE(error.find(message), std::string::npos) << error;
    // Checked before anything is copied.
    EXPECT_TRUE(
        torch::equal(target->named_parameters()["score_fr.weight"], untouched));
  }

  target->load_parameters(state);
  for (const auto& pair : target->named_parameters()) {
    EXPECT_TRUE(torch::equal(pair.value(), state.at(pair.key()))) << pair.key();
  }
  EXPECT_FALSE(target->named_parameters()["upscore2.weight"].requires_grad());
}

} // namespace
} // namespace models
} // namespace fcnlab
