// InnerProduct, BatchNorm and Flatten against Caffe's formulas, computed
// here element by element or with other ATen operations.
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/models/layers/batch_norm.h>
#include <fcnlab/models/layers/inner_product.h>
#include <fcnlab/train/dry_run.h>
#include <fcnlab/train/trainer.h>

#include "seeded_test.h"
#include "tensor_dataset.h"

#include <torch/torch.h>

#include <cmath>

namespace fcnlab {
namespace models {
namespace {

using ClassifierLayersTest = testing::SeededTest;

LayerSpec layer_of(
    const std::string& name,
    LayerType type,
    const std::string& bottom,
    const std::string& top) {
  LayerSpec layer;
  layer.name = name;
  layer.type = type;
  layer.bottoms = {bottom};
  layer.tops = {top};
  return layer;
}

NetSpec net_of(std::vector<LayerSpec> layers) {
  NetSpec spec;
  spec.name = layers[0].name;
  spec.output = layers.back().tops[0];
  spec.layers = std::move(layers);
  return spec;
}

// Caffe's BatchNorm on `blob`, in place; its blobs never learned.
LayerSpec batch_norm_on(const std::string& blob) {
  LayerSpec bn = layer_of("bn", LayerType::kBatchNorm, blob, blob);
  bn.params.assign(3, ParamRule{0, 0});
  return bn;
}

TEST_F(ClassifierLayersTest, InnerProductSumsEachItemInChannelRowColumnOrder) {
  // One item of 2 channels x 1 x 2: values 1, 2 (channel 0), 3, 4.
  const auto x = torch::tensor({1.f, 2.f, 3.f, 4.f}).view({1, 2, 1, 2});
  InnerProduct plain(4, 2, /*bias=*/true, /*transpose=*/false);
  InnerProduct transposed(4, 2, /*bias=*/true, /*transpose=*/true);
  const auto weight =
      torch::tensor({{1.f, 0.f, -1.f, 2.f}, {0.5f, 0.5f, 0.5f, 0.5f}});
  {
    torch::NoGradGuard no_grad;
    plain->weight.copy_(weight);
    plain->bias.copy_(torch::tensor({10.f, -1.f}));
    transposed->weight.copy_(weight.t());
    transposed->bias.copy_(plain->bias);
  }
  // 1 - 3 + 2 * 4 + 10 = 16; 0.5 * (1 + 2 + 3 + 4) - 1 = 4.
  const auto expected = torch::tensor({{16.f, 4.f}});
  EXPECT_TRUE(torch::equal(plain->forward(x), expected));
  EXPECT_TRUE(torch::equal(transposed->forward(x), expected));
  EXPECT_EQ(transposed->weight.sizes(), (std::vector<int64_t>{4, 2}));
}

TEST_F(ClassifierLayersTest, InnerProductMatchesABroadcastSum) {
  const auto x = torch::randn({2, 3, 4, 5});
  InnerProduct layer(60, 7, /*bias=*/true, /*transpose=*/false);
  {
    torch::NoGradGuard no_grad;
    layer->weight.normal_();
    layer->bias.normal_();
  }
  const auto expected =
      (x.reshape({2, 1, 60}) * layer->weight.unsqueeze(0)).sum(2) + layer->bias;
  EXPECT_TRUE(torch::allclose(layer->forward(x), expected, 1e-4, 1e-4));
  try {
    layer->forward(torch::randn({2, 3, 4, 4}));
    FAIL() << "48 values per item were taken for 60";
  } catch (const c10::ValueError& error) {
    EXPECT_NE(
        std::string(error.what()).find("InnerProduct takes 60 values per item"),
        std::string::npos)
        << error.what();
  }
}

TEST_F(ClassifierLayersTest, BatchNormWithStoredStatisticsDividesByTheFactor) {
  BatchNorm layer(2, /*use_global_stats=*/true);
  const double eps = layer->eps;
  {
    torch::NoGradGuard no_grad;
    layer->mean.copy_(torch::tensor({2.f, 4.f}));
    layer->variance.copy_(torch::tensor({8.f, 18.f}));
    layer->factor.fill_(2);
  }
  const auto x = torch::tensor({3.f, 5.f, 0.f, 8.f}).view({1, 2, 1, 2});
  // Statistics: mean 1 and 2, variance 4 and 9.
  const auto expected = torch::tensor(
                            {(3 - 1) / std::sqrt(4 + eps),
                             (5 - 1) / std::sqrt(4 + eps),
                             (0 - 2) / std::sqrt(9 + eps),
                             (8 - 2) / std::sqrt(9 + eps)},
                            torch::kFloat)
                            .view({1, 2, 1, 2});
  EXPECT_TRUE(torch::allclose(layer->forward(x), expected, 1e-5, 1e-6));

  // Before any update Caffe scales the sums by 0: x / sqrt(eps).
  {
    torch::NoGradGuard no_grad;
    layer->factor.zero_();
  }
  EXPECT_TRUE(
      torch::allclose(layer->forward(x), x / std::sqrt(eps), 1e-5, 1e-3));
}

TEST_F(ClassifierLayersTest, BatchNormInTrainingUsesTheBatchAndUpdatesTheSums) {
  const int64_t channels = 3;
  BatchNorm layer(channels, std::nullopt, /*moving_average_fraction=*/0.9);
  const auto mean0 = torch::tensor({0.5f, -1.f, 2.f});
  const auto variance0 = torch::tensor({1.f, 2.f, 3.f});
  {
    torch::NoGradGuard no_grad;
    layer->mean.copy_(mean0);
    layer->variance.copy_(variance0);
    layer->factor.fill_(2);
  }
  const auto x = torch::randn({2, channels, 4, 5}) * 3 + 1;
  layer->train();
  const auto y = layer->forward(x);

  const auto values = x.accessor<float, 4>();
  const auto out = y.accessor<float, 4>();
  const double m = 2 * 4 * 5;
  for (int64_t c = 0; c < channels; ++c) {
    double sum = 0;
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t i = 0; i < 4; ++i)
        for (int64_t j = 0; j < 5; ++j)
          sum += values[n][c][i][j];
    const double mu = sum / m;
    double squares = 0;
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t i = 0; i < 4; ++i)
        for (int64_t j = 0; j < 5; ++j)
          squares += std::pow(values[n][c][i][j] - mu, 2);
    const double variance = squares / m;
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t i = 0; i < 4; ++i)
        for (int64_t j = 0; j < 5; ++j)
          EXPECT_NEAR(
              out[n][c][i][j],
              (values[n][c][i][j] - mu) / std::sqrt(variance + 1e-5),
              1e-4);
    EXPECT_NEAR(
        layer->mean[c].item<double>(),
        0.9 * mean0[c].item<double>() + mu,
        1e-4);
    EXPECT_NEAR(
        layer->variance[c].item<double>(),
        0.9 * variance0[c].item<double>() + m / (m - 1) * variance,
        1e-3);
  }
  EXPECT_NEAR(layer->factor.item<double>(), 0.9 * 2 + 1, 1e-6);

  // In evaluation the stored statistics hold, and stay as they are.
  layer->eval();
  const auto factor = layer->factor.clone();
  const auto scale = 1 / factor;
  const auto expected = (x - (layer->mean * scale).view({1, -1, 1, 1})) /
      (layer->variance * scale + 1e-5).sqrt().view({1, -1, 1, 1});
  EXPECT_TRUE(torch::allclose(layer->forward(x), expected, 1e-4, 1e-4));
  EXPECT_TRUE(torch::equal(layer->factor, factor));

  // use_global_stats: false takes the batch's even in evaluation.
  BatchNorm batch_only(channels, false);
  batch_only->eval();
  const auto normalized = batch_only->forward(x);
  EXPECT_TRUE(torch::allclose(normalized, y, 1e-5, 1e-5));
}

TEST_F(ClassifierLayersTest, FlattenKeepsChannelRowColumnOrderOnOnePixel) {
  NetSpec spec =
      net_of({layer_of("flat", LayerType::kFlatten, "data", "flat")});
  spec.input_height = 2;
  spec.input_width = 3;
  EXPECT_EQ(num_classes(spec), 3 * 2 * 3);
  FcnNet net(spec);
  const auto x = torch::arange(2 * 3 * 2 * 3, torch::kFloat).view({2, 3, 2, 3});
  EXPECT_TRUE(torch::equal(net->forward(x), x.reshape({2, 18, 1, 1})));
}

TEST_F(ClassifierLayersTest, BatchNormBlobsAreNeverLearned) {
  const NetSpec spec = net_of({batch_norm_on("data")});
  FcnNet net(spec);
  EXPECT_EQ(parameter_count(spec), 3 + 3 + 1);
  EXPECT_EQ(net->num_learnable_parameters(), 0);
  for (const auto& parameter : net->layer_parameters()) {
    EXPECT_EQ(parameter.rule.lr_mult, 0) << parameter.name;
    EXPECT_FALSE(parameter.tensor.requires_grad()) << parameter.name;
  }
}

TEST_F(ClassifierLayersTest, ADryRunLeavesBatchNormSumsAsTheyWere) {
  LayerSpec conv = layer_of("score", LayerType::kConvolution, "data", "conv");
  conv.convolution.num_output = 3;
  conv.convolution.weight_filler = Filler{"gaussian", 0, 0, 0.1};
  FcnNet net(net_of({conv, batch_norm_on("conv")}));
  testing::TensorDataset data(
      {{torch::rand({3, 8, 8}) * 255, torch::zeros({8, 8}, torch::kLong)}});
  const auto before = net->named_parameters()["bn.factor"].clone();
  train::dry_run(net, data, train::TrainerOptions());
  EXPECT_TRUE(torch::equal(net->named_parameters()["bn.factor"], before));
  // A forward pass in training mode does update them.
  net->forward(torch::rand({1, 3, 8, 8}));
  EXPECT_FLOAT_EQ(net->named_parameters()["bn.factor"].item<float>(), 1);
}

} // namespace
} // namespace models
} // namespace fcnlab
