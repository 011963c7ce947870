#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/models/summary.h>
#include <fcnlab/train/solver.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <torch/torch.h>

#include <map>

namespace fcnlab {
namespace models {
namespace {

using BuiltinNetsTest = testing::SeededTest;

std::vector<int64_t> sizes(const torch::Tensor& tensor) {
  return tensor.sizes().vec();
}

TEST_F(BuiltinNetsTest, Fcn8sParametersAreFcnsWithTheirShapes) {
  FcnNet net(builtin_net("fcn8s"));
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  int64_t in = 3;
  const int64_t widths[] = {64, 128, 256, 512, 512};
  const int depths[] = {2, 2, 3, 3, 3};
  for (int stage = 0; stage < 5; ++stage) {
    for (int i = 1; i <= depths[stage]; ++i) {
      const std::string name =
          "conv" + std::to_string(stage + 1) + "_" + std::to_string(i);
      expected.push_back({name + ".weight", {widths[stage], in, 3, 3}});
      expected.push_back({name + ".bias", {widths[stage]}});
      in = widths[stage];
    }
  }
  const std::vector<std::pair<std::string, std::vector<int64_t>>> head = {
      {"fc6.weight", {4096, 512, 7, 7}},
      {"fc6.bias", {4096}},
      {"fc7.weight", {4096, 4096, 1, 1}},
      {"fc7.bias", {4096}},
      {"score_fr.weight", {21, 4096, 1, 1}},
      {"score_fr.bias", {21}},
      {"upscore2.weight", {21, 21, 4, 4}},
      {"score_pool4.weight", {21, 512, 1, 1}},
      {"score_pool4.bias", {21}},
      {"upscore_pool4.weight", {21, 21, 4, 4}},
      {"score_pool3.weight", {21, 256, 1, 1}},
      {"score_pool3.bias", {21}},
      {"upscore8.weight", {21, 21, 16, 16}},
  };
  expected.insert(expected.end(), head.begin(), head.end());

  const auto parameters = net->named_parameters();
  ASSERT_EQ(parameters.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(parameters[i].key(), expected[i].first);
    EXPECT_EQ(sizes(parameters[i].value()), expected[i].second)
        << expected[i].first;
  }
}

TEST_F(BuiltinNetsTest, ParameterCountsAreThoseOfTheFcnFiles) {
  // FCN-NETS.md: parameters of the published caffemodels (learnable and
  // fixed together).
  const std::map<std::string, int64_t> expected = {
      {"fcn32s", 136152917},
      {"fcn16s", 134815994},
      {"fcn8s", 134489759},
      {"fcn8s_atonce", 134490527},
  };
  for (const auto& [name, count] : expected) {
    const auto summary = summarize(builtin_net(name), 500, 500);
    EXPECT_EQ(summary.learnable_parameters + summary.fixed_parameters, count)
        << name;
  }
}

TEST_F(BuiltinNetsTest, CropOffsetsAreDerivedNotWritten) {
  struct Expected {
    const char* net;
    std::map<std::string, int64_t> offsets;
  };
  for (const auto& e :
       {Expected{"fcn_alexnet", {{"score", 18}}},
        Expected{"fcn32s", {{"score", 19}}},
        Expected{"fcn16s", {{"score_pool4c", 5}, {"score", 27}}},
        Expected{
            "fcn8s", {{"score_pool4c", 5}, {"score_pool3c", 9}, {"score", 31}}},
        Expected{
            "fcn8s_atonce",
            {{"score_pool4c", 5}, {"score_pool3c", 9}, {"score", 31}}}}) {
    NetSpec spec = builtin_net(e.net);
    // Nothing typed in: clear what the builder filled and derive again.
    for (auto& layer : spec.layers) {
      layer.crop.offsets.clear();
    }
    FcnNet net(spec);
    ASSERT_EQ(net->crop_offsets().size(), e.offsets.size()) << e.net;
    for (const auto& [crop, offset] : e.offsets) {
      EXPECT_EQ(net->crop_offsets().at(crop), std::make_pair(offset, offset))
          << e.net << " " << crop;
    }
  }
}

// Caffe's output sizes, written out independently of fcnlab's summary.
struct Fcn8sSizes {
  int64_t pool3, pool4, pool5, fc7, upscore2, upscore_pool4, upscore8;
};

Fcn8sSizes caffe_sizes(int64_t h) {
  auto conv = [](int64_t x, int64_t k, int64_t p) { return x + 2 * p - k + 1; };
  auto pool = [](int64_t x) { return (x - 2 + 1) / 2 + 1; }; // ceil((x-2)/2)+1
  int64_t x = conv(h, 3, 100);
  int64_t pools[5];
  for (int i = 0; i < 5; ++i) {
    x = pool(x);
    pools[i] = x;
  }
  const int64_t fc7 = pools[4] - 7 + 1;
  const int64_t up2 = 2 * (fc7 - 1) + 4;
  const int64_t up4 = 2 * (up2 - 1) + 4;
  return {pools[2], pools[3], pools[4], fc7, up2, up4, 8 * (up4 - 1) + 16};
}

TEST_F(BuiltinNetsTest, Fcn8sSizesMatchTheFcnTable) {
  // FCN-NETS.md's table for H = 500 and H = 1, and the same formulas.
  const auto at500 = caffe_sizes(500);
  EXPECT_EQ(at500.pool3, 88);
  EXPECT_EQ(at500.pool4, 44);
  EXPECT_EQ(at500.pool5, 22);
  EXPECT_EQ(at500.fc7, 16);
  EXPECT_EQ(at500.upscore2, 34);
  EXPECT_EQ(at500.upscore_pool4, 70);
  EXPECT_EQ(at500.upscore8, 568);
  const auto at1 = caffe_sizes(1);
  EXPECT_EQ(at1.pool3, 25);
  EXPECT_EQ(at1.pool4, 13);
  EXPECT_EQ(at1.pool5, 7);
  EXPECT_EQ(at1.upscore8, 88);

  torch::NoGradGuard no_grad;
  FcnNet net(builtin_net("fcn8s"));
  net->eval();
  for (const auto& [h, w] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {375, 500}}) {
    const auto trace = net->trace(torch::rand({1, 3, h, w}) * 255);
    std::map<std::string, std::vector<int64_t>> shapes;
    for (const auto& [name, output] : trace) {
      shapes[name] = output.sizes().slice(1).vec();
    }
    const auto rows = caffe_sizes(h);
    const auto cols = caffe_sizes(w);
    EXPECT_EQ(
        shapes["pool3"], (std::vector<int64_t>{256, rows.pool3, cols.pool3}));
    EXPECT_EQ(
        shapes["pool4"], (std::vector<int64_t>{512, rows.pool4, cols.pool4}));
    EXPECT_EQ(
        shapes["pool5"], (std::vector<int64_t>{512, rows.pool5, cols.pool5}));
    EXPECT_EQ(
        shapes["upscore8"],
        (std::vector<int64_t>{21, rows.upscore8, cols.upscore8}));
    EXPECT_EQ(shapes["score"], (std::vector<int64_t>{21, h, w}));
    // The summary computes the same shapes without running anything.
    for (const auto& row : summarize(net->spec(), h, w).layers) {
      EXPECT_EQ(row.output_shape, shapes[row.name]) << row.name;
    }
  }
  for (const auto& row : summarize(net->spec(), 500, 500).layers) {
    if (row.name == "upscore8") {
      EXPECT_EQ(row.output_shape, (std::vector<int64_t>{21, 568, 568}));
    }
  }
  EXPECT_EQ(
      net->forward(torch::rand({1, 3, 500, 500}) * 255).sizes(),
      torch::IntArrayRef({1, 21, 500, 500}));
}

TEST_F(BuiltinNetsTest, FcnConventionsForTheSolver) {
  FcnNet net(builtin_net("fcn8s_atonce", 5));
  EXPECT_EQ(net->num_classes(), 5);
  std::map<std::string, NamedParameter> specs;
  for (const auto& spec : train::trainable_parameters(net)) {
    specs.emplace(spec.name, spec);
  }
  // Fixed: every upsampling and the skip scales.
  for (const char* fixed :
       {"upscore2.weight",
        "upscore_pool4.weight",
        "upscore8.weight",
        "scale_pool4.weight",
        "scale_pool3.weight"}) {
    EXPECT_EQ(specs.count(fixed), 0u) << fixed;
    EXPECT_FALSE(net->named_parameters()[fixed].requires_grad()) << fixed;
  }
  EXPECT_EQ(specs.at("conv3_2.weight").rule.lr_mult, 1.0);
  EXPECT_EQ(specs.at("conv3_2.bias").rule.lr_mult, 2.0);
  EXPECT_EQ(specs.at("conv3_2.bias").rule.decay_mult, 0.0);
  EXPECT_EQ(specs.at("score_pool3.bias").rule.lr_mult, 2.0);
  EXPECT_EQ(specs.size(), 2u * 13 + 2 * 2 + 2 * 3); // convs, fc6/fc7, 3 scorers

  auto params = net->named_parameters();
  EXPECT_TRUE(
      torch::equal(params["scale_pool4.weight"], torch::full({512}, 0.01f)));
  EXPECT_TRUE(
      torch::equal(params["scale_pool3.weight"], torch::full({256}, 1e-4f)));
  // New scorers start at zero; upsamplings are bilinear on the diagonal.
  EXPECT_EQ(params["score_pool4.weight"].abs().max().item<float>(), 0.0f);
  const auto up = params["upscore2.weight"];
  const auto taps = torch::tensor({0.25f, 0.75f, 0.75f, 0.25f});
  EXPECT_TRUE(torch::allclose(up[3][3], torch::outer(taps, taps)));
  EXPECT_EQ(up[3][4].abs().max().item<float>(), 0.0f);
}

TEST_F(BuiltinNetsTest, FcnAlexNetIsTheFcnAlexnetDescription) {
  FcnAlexNet alexnet;
  const auto& spec = alexnet->spec();
  EXPECT_EQ(spec.layers.front().type, LayerType::kPower);
  EXPECT_EQ(spec.layers.front().power.shift, -116.0);
  EXPECT_EQ(alexnet->crop_offset(), 18);
  EXPECT_EQ(alexnet->num_learnable_parameters(), 56954261);
  // Per-channel means become the input's transform instead of a Power layer.
  const auto means = fcn_alexnet_spec(FcnAlexNetOptions().mean(fcn_mean()));
  EXPECT_EQ(means.mean, fcn_mean());
  EXPECT_EQ(means.layers.front().name, "conv1");
  EXPECT_NE(
      testing::error_message_of([] {
        builtin_net("fcn4s");
      }).find("unknown network 'fcn4s'; built in are fcn_alexnet"),
      std::string::npos);
}

} // namespace
} // namespace models
} // namespace fcnlab
