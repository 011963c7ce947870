#include <fcnlab/caffe/exporter.h>
#include <fcnlab/caffe/importer.h>
#include <fcnlab/io/model_file.h>
#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/fcn_alexnet.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <torch/torch.h>

#include <algorithm>

namespace fcnlab {
namespace caffe {
namespace {

// One random ImageNet Alexnet, written once as a V1 caffemodel (233 MiB, as
// the real bvlc_alexnet.caffemodel) and shared by the tests of this file.
class ImporterTest : public testing::SeededTest {
 protected:
  static void SetUpTestSuite() {
    blobs_ = new testing::AlexnetBlobs(testing::random_alexnet(/*seed=*/7));
    alexnet_path_ = new std::string(
        (std::filesystem::temp_directory_path() /
         ("fcnlab_alexnet_v1_" + std::to_string(::getpid()) + ".caffemodel"))
            .string());
    testing::write_alexnet_v1(*blobs_, *alexnet_path_);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove(*alexnet_path_);
    delete blobs_;
    delete alexnet_path_;
  }

  static testing::AlexnetBlobs* blobs_;
  static std::string* alexnet_path_;
};

testing::AlexnetBlobs* ImporterTest::blobs_ = nullptr;
std::string* ImporterTest::alexnet_path_ = nullptr;

std::vector<std::string> layers_of(
    const std::vector<ImportReport::Entry>& entries) {
  std::vector<std::string> names;
  for (const auto& entry : entries) {
    names.push_back(entry.layer);
  }
  return names;
}

Layer layer_with(
    const std::string& name,
    const std::string& type,
    std::vector<std::vector<int64_t>> shapes) {
  Layer layer{name, type, {}, {}, {}};
  for (auto& shape : shapes) {
    Blob blob{shape, {}};
    blob.data.assign(static_cast<size_t>(blob.count()), 0.5f);
    layer.blobs.push_back(std::move(blob));
  }
  return layer;
}

TEST_F(ImporterTest, SurgeryReport) {
  models::FcnAlexNet net;
  const auto report = load_caffemodel(net, *alexnet_path_);
  EXPECT_EQ(
      layers_of(report.copied),
      (std::vector<std::string>{"conv1", "conv2", "conv3", "conv4", "conv5"}));
  EXPECT_EQ(
      layers_of(report.reshaped), (std::vector<std::string>{"fc6", "fc7"}));
  EXPECT_EQ(layers_of(report.dropped), std::vector<std::string>{"fc8"});
  EXPECT_EQ(
      layers_of(report.kept_initialised),
      (std::vector<std::string>{"score_fr", "upscore"}));
  const std::string text = report.to_string();
  EXPECT_NE(
      text.find("reshaped         fc6: InnerProduct 1x1x4096x9216 -> "
                "4096x256x6x6, 1x1x1x4096"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("dropped          fc8: InnerProduct"), std::string::npos);
}

TEST_F(ImporterTest, CopiesValuesAndReshapesInnerProducts) {
  models::FcnAlexNet net;
  load_caffemodel(net, *alexnet_path_);
  const auto& blobs = *blobs_;
  EXPECT_TRUE(torch::equal(net->conv1->weight, blobs.at("conv1")[0]));
  EXPECT_TRUE(torch::equal(net->conv2->weight, blobs.at("conv2")[0]));
  EXPECT_TRUE(torch::equal(net->conv5->bias, blobs.at("conv5")[1]));
  // Row-major: fc6 weight row o, column c*36 + y*6 + x is kernel (o, c, y, x).
  EXPECT_EQ(
      net->fc6->weight[17][3][2][5].item<float>(),
      blobs.at("fc6")[0][17][3 * 36 + 2 * 6 + 5].item<float>());
  EXPECT_TRUE(torch::equal(net->fc7->weight.flatten(1), blobs.at("fc7")[0]));
  EXPECT_EQ(net->score_fr->weight.abs().max().item<float>(), 0.0f);
}

TEST_F(ImporterTest, ConvolutionalizedLayersEqualTheClassifierOnAPool5Window) {
  models::FcnAlexNet net;
  load_caffemodel(net, *alexnet_path_);
  torch::NoGradGuard no_grad;
  net->eval();
  const auto& blobs = *blobs_;
  const auto window = torch::rand({1, 256, 6, 6}) * 4;

  // Alexnet's classifier: InnerProduct layers on the flattened window.
  auto inner_product = [&](const torch::Tensor& x, const std::string& name) {
    return torch::matmul(x, blobs.at(name)[0].t()) + blobs.at(name)[1];
  };
  auto x = torch::relu(inner_product(window.flatten(), "fc6"));
  x = torch::relu(inner_product(x, "fc7"));
  const auto classifier = inner_product(x, "fc8");

  // The same through the convolutionalized FCN layers (fc8 as a 1x1 conv).
  auto y = torch::relu(net->fc6(window));
  y = torch::relu(net->fc7(y));
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({1, 4096, 1, 1}));
  const auto convolutional = torch::conv2d(
      y, blobs.at("fc8")[0].view({1000, 4096, 1, 1}), blobs.at("fc8")[1]);

  const auto expected = classifier.view({1000});
  const auto actual = convolutional.view({1000});
  const double scale = expected.abs().max().item<double>();
  EXPECT_GT(scale, 0.1);
  EXPECT_LE((actual - expected).abs().max().item<double>(), 1e-4 * scale);
}

std::vector<std::string> layer_names(
    const std::vector<ImportReport::Entry>& entries) {
  std::vector<std::string> names;
  for (const auto& entry : entries) {
    names.push_back(entry.layer);
  }
  return names;
}

TEST_F(ImporterTest, Vgg16SurgeryIntoFcn32s) {
  const auto blobs = testing::random_vgg16(/*seed=*/11);
  testing::write_vgg16_v1(blobs, path("vgg16.caffemodel"));
  models::FcnNet net(models::builtin_net("fcn32s"));
  const auto report = load_caffemodel(net, path("vgg16.caffemodel"));
  EXPECT_EQ(report.copied.size(), 13u);
  EXPECT_EQ(
      layer_names(report.reshaped), (std::vector<std::string>{"fc6", "fc7"}));
  EXPECT_EQ(layer_names(report.dropped), (std::vector<std::string>{"fc8"}));
  EXPECT_EQ(
      layer_names(report.kept_initialised),
      (std::vector<std::string>{"score_fr", "upscore"}));
  EXPECT_NE(
      report.to_string().find("reshaped         fc6: InnerProduct "
                              "1x1x4096x25088 -> 4096x512x7x7"),
      std::string::npos)
      << report.to_string();

  auto params = net->named_parameters();
  EXPECT_TRUE(torch::equal(params["conv3_2.weight"], blobs.at("conv3_2")[0]));
  EXPECT_TRUE(torch::equal(params["conv5_3.bias"], blobs.at("conv5_3")[1]));

  // InnerProduct fc6 on a flattened 512x7x7 window equals the
  // convolutionalized fc6 on that window.
  torch::NoGradGuard no_grad;
  const auto window = torch::rand({1, 512, 7, 7});
  const auto expected =
      torch::matmul(window.flatten(), blobs.at("fc6")[0].t()) +
      blobs.at("fc6")[1];
  const auto actual =
      net->named_children()["fc6"]->as<torch::nn::Conv2d>()->forward(window);
  ASSERT_EQ(actual.sizes(), torch::IntArrayRef({1, 4096, 1, 1}));
  const double scale = expected.abs().max().item<double>();
  EXPECT_GT(scale, 0.1);
  EXPECT_LE(
      (actual.view({4096}) - expected).abs().max().item<double>(),
      1e-4 * scale);
}

TEST_F(ImporterTest, Fcn32sWeightsStartFcn16s) {
  models::FcnNet fcn32s(models::builtin_net("fcn32s", 4));
  {
    torch::NoGradGuard no_grad;
    fcn32s->named_parameters()["score_fr.weight"].normal_(0, 0.1);
  }
  save_caffemodel(fcn32s, path("fcn32s.caffemodel"));
  models::FcnNet fcn16s(models::builtin_net("fcn16s", 4));
  const auto report = load_caffemodel(fcn16s, path("fcn32s.caffemodel"));
  EXPECT_EQ(report.copied.size(), 16u); // 13 convs, fc6, fc7, score_fr
  EXPECT_TRUE(report.reshaped.empty());
  // The exported mean subtraction and the 32x upsampling are not fcn16s's.
  EXPECT_EQ(
      layer_names(report.dropped),
      (std::vector<std::string>{"mean", "upscore"}));
  EXPECT_EQ(
      layer_names(report.kept_initialised),
      (std::vector<std::string>{"upscore2", "score_pool4", "upscore16"}));
  EXPECT_NE(
      report.to_string().find(
          "kept initialised upscore2: bilinear upsampling kernel"),
      std::string::npos);
  auto source = fcn32s->named_parameters();
  auto target = fcn16s->named_parameters();
  for (const char* name : {"conv1_1.weight", "fc7.bias", "score_fr.weight"}) {
    EXPECT_TRUE(torch::equal(source[name], target[name])) << name;
  }
  EXPECT_EQ(target["score_pool4.weight"].abs().max().item<float>(), 0.0f);
}

TEST_F(ImporterTest, DigitsRenamedClassLayers) {
  Net net{"digits", {}};
  net.layers.push_back(layer_with(
      "score_fr_21classes", "Convolution", {{21, 4096, 1, 1}, {21}}));
  net.layers.push_back(
      layer_with("upscore_21classes", "Deconvolution", {{21, 1, 63, 63}}));
  models::FcnAlexNet model;
  const auto report = import_weights(model, net);
  EXPECT_EQ(
      layers_of(report.copied),
      (std::vector<std::string>{"score_fr", "upscore"}));
  EXPECT_NE(
      report.copied[0].detail.find("(from score_fr_21classes)"),
      std::string::npos);
  EXPECT_EQ(model->score_fr->bias[0].item<float>(), 0.5f);
  EXPECT_EQ(model->upscore->weight.max().item<float>(), 0.5f);
}

TEST_F(ImporterTest, OtherClassCountIsAnErrorUnlessSkipped) {
  Net net{"sixty", {}};
  net.layers.push_back(
      layer_with("conv3", "Convolution", {{384, 256, 3, 3}, {384}}));
  net.layers.push_back(
      layer_with("score_fr", "Convolution", {{60, 4096, 1, 1}, {60}}));
  models::FcnAlexNet model;
  const auto conv3_before = model->conv3->weight.clone();
  const auto message = testing::error_message_of(
      [&] { import_weights(model, net, {}, "x.caffemodel"); });
  EXPECT_NE(
      message.find("x.caffemodel: layer score_fr has 60x4096x1x1 weights, "
                   "expected 21x4096x1x1"),
      std::string::npos)
      << message;
  // Nothing is copied when any layer fails.
  EXPECT_TRUE(torch::equal(model->conv3->weight, conv3_before));

  const auto report =
      import_weights(model, net, ImportOptions().skip_mismatched(true));
  EXPECT_EQ(layers_of(report.copied), std::vector<std::string>{"conv3"});
  ASSERT_FALSE(report.kept_initialised.empty());
  EXPECT_EQ(report.kept_initialised[0].layer, "score_fr");
  EXPECT_EQ(model->conv3->weight.max().item<float>(), 0.5f);
  EXPECT_EQ(model->score_fr->weight.abs().max().item<float>(), 0.0f);
}

TEST_F(ImporterTest, Fc6OfAWrongSize) {
  Net net{"bad", {}};
  net.layers.push_back(
      layer_with("fc6", "InnerProduct", {{1, 1, 4096, 9215}, {1, 1, 1, 4096}}));
  models::FcnAlexNet model;
  EXPECT_NE(
      testing::error_message_of(
          [&] { import_weights(model, net, {}, "a.caffemodel"); })
          .find("a.caffemodel: layer fc6 has 1x1x4096x9215 weights, expected "
                "4096x9216"),
      std::string::npos);
}

TEST_F(ImporterTest, MissingBiasBlob) {
  Net net{"bad", {}};
  net.layers.push_back(layer_with("conv1", "Convolution", {{96, 3, 11, 11}}));
  models::FcnAlexNet model;
  EXPECT_NE(
      testing::error_message_of([&] {
        import_weights(model, net);
      }).find("layer conv1 has 1 blobs, expected 2"),
      std::string::npos);
}

TEST_F(ImporterTest, LoadNetworkReadsBothFormats) {
  const auto caffe = io::load_network(
      *alexnet_path_, models::fcn_alexnet_spec(models::FcnAlexNetOptions(4)));
  const auto& from_caffe = caffe.model;
  EXPECT_EQ(from_caffe->num_classes(), 4);
  ASSERT_TRUE(caffe.report);
  EXPECT_EQ(caffe.report->reshaped.size(), 2u);

  io::save_model(from_caffe, path("model.pt"), {"a", "b", "c", "d"});
  const auto file =
      io::load_network(path("model.pt"), models::builtin_net("fcn8s"));
  const auto& from_model = file.model;
  EXPECT_FALSE(file.report);
  EXPECT_EQ(file.class_names, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(from_model->num_classes(), 4);
  EXPECT_EQ(from_model->spec().name, "FCN-Alexnet");
  EXPECT_TRUE(torch::equal(
      from_model->named_parameters()["fc6.weight"],
      from_caffe->named_parameters()["fc6.weight"]));
}

// What the CLI builds for fcn_alexnet: an FcnAlexNet, held as an FcnNet.
models::FcnNet alexnet(int64_t classes) {
  return models::FcnAlexNet(models::FcnAlexNetOptions(classes));
}

TEST_F(ImporterTest, LoadNetworkImportsACaffemodelIntoWhatTheFactoryBuilds) {
  int built = 0;
  const auto loaded = io::load_network(*alexnet_path_, [&] {
    ++built;
    return alexnet(4);
  });
  EXPECT_EQ(built, 1);
  // The factory's FcnAlexNet, not a plain FcnNet of its description.
  EXPECT_NE(
      dynamic_cast<const models::FcnAlexNetImpl*>(loaded.model.get()), nullptr);
  ASSERT_TRUE(loaded.report);

  io::save_model(loaded.model, path("m.pt"));
  io::load_network(path("m.pt"), [&] {
    ++built;
    return alexnet(4);
  });
  EXPECT_EQ(built, 1) << "a model file needs no network built for it";
}

} // namespace
} // namespace caffe
} // namespace fcnlab
