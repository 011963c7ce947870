// Pretraining bvlc_alexnet's classifier on object crops, its caffemodel in
// bvlc_alexnet's layout, and net surgery of it into FCN-Alexnet.
#include <fcnlab/caffe/caffemodel.h>
#include <fcnlab/caffe/exporter.h>
#include <fcnlab/caffe/importer.h>
#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/train/pretrain.h>

#include "seeded_test.h"
#include "tensor_dataset.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <fstream>
#include <map>
#include <sstream>

namespace fcnlab {
namespace train {
namespace {

class PretrainTest : public testing::SeededTest {};

using Shape = std::vector<int64_t>;

TEST_F(PretrainTest, ClassifierHasBvlcAlexnetsLayersAndShapes) {
  models::FcnNet classifier(models::alexnet_classifier_spec(7));
  // bvlc_alexnet's deploy.prototxt, with fc8 at 7 outputs; fc6..fc8 as the
  // convolutions that equal its InnerProducts on 227x227.
  const std::map<std::string, Shape> expected{
      {"conv1.weight", {96, 3, 11, 11}},
      {"conv2.weight", {256, 48, 5, 5}},
      {"conv3.weight", {384, 256, 3, 3}},
      {"conv4.weight", {384, 192, 3, 3}},
      {"conv5.weight", {256, 192, 3, 3}},
      {"fc6.weight", {4096, 256, 6, 6}},
      {"fc7.weight", {4096, 4096, 1, 1}},
      {"fc8.weight", {7, 4096, 1, 1}},
      {"fc8.bias", {7}}};
  const auto parameters = classifier->named_parameters();
  for (const auto& [name, shape] : expected) {
    ASSERT_TRUE(parameters.contains(name)) << name;
    EXPECT_EQ(parameters[name].sizes(), shape) << name;
  }
  EXPECT_EQ(parameters.size(), 16u);
  std::vector<std::string> order;
  for (const auto& layer : classifier->spec().layers) {
    order.push_back(layer.name);
  }
  const std::vector<std::string> bvlc{
      "conv1", "relu1", "norm1", "pool1", "conv2", "relu2", "norm2", "pool2",
      "conv3", "relu3", "conv4", "relu4", "conv5", "relu5", "pool5", "fc6",
      "relu6", "drop6", "fc7",   "relu7", "drop7", "fc8"};
  EXPECT_EQ(order, bvlc);

  classifier->eval();
  torch::NoGradGuard no_grad;
  const auto scores = classifier->forward(torch::rand({2, 3, 227, 227}) * 255);
  EXPECT_EQ(scores.sizes(), (Shape{2, 7, 1, 1}));
}

TEST_F(PretrainTest, CaffemodelInBvlcLayoutConvolutionalizesIntoFcnAlexnet) {
  models::FcnNet classifier(models::alexnet_classifier_spec(21));
  const std::string path = this->path("alexnet.caffemodel");
  caffe::save_classifier_caffemodel(classifier, path);

  const auto net = caffe::read_caffemodel(path);
  std::map<std::string, const caffe::Layer*> layers;
  for (const auto& layer : net.layers) {
    layers[layer.name] = &layer;
  }
  const std::map<std::string, std::pair<std::string, Shape>> stored{
      {"conv2", {"Convolution", {256, 48, 5, 5}}},
      {"fc6", {"InnerProduct", {4096, 9216}}},
      {"fc7", {"InnerProduct", {4096, 4096}}},
      {"fc8", {"InnerProduct", {21, 4096}}}};
  for (const auto& [name, type_shape] : stored) {
    ASSERT_TRUE(layers.count(name)) << name;
    EXPECT_EQ(layers[name]->type, type_shape.first) << name;
    EXPECT_EQ(layers[name]->blobs.at(0).shape, type_shape.second) << name;
  }
  // The InnerProduct rows are the kernels in C x H x W order, as Caffe's
  // pool5 -> fc6 flattening reads them.
  const auto fc6 = classifier->named_parameters()["fc6.weight"];
  const auto& blob = layers["fc6"]->blobs[0].data;
  EXPECT_TRUE(torch::equal(
      torch::from_blob(
          const_cast<float*>(blob.data()), {4096, 9216}, torch::kFloat),
      fc6.detach().reshape({4096, 9216})));

  // Net surgery as from bvlc_alexnet: fc6/fc7 reshaped, fc8 dropped.
  models::FcnAlexNet fcn(models::FcnAlexNetOptions(21));
  const auto report = caffe::load_caffemodel(fcn, path);
  std::vector<std::string> reshaped, dropped;
  for (const auto& entry : report.reshaped) {
    reshaped.push_back(entry.layer);
  }
  for (const auto& entry : report.dropped) {
    dropped.push_back(entry.layer);
  }
  EXPECT_EQ(reshaped, (std::vector<std::string>{"fc6", "fc7"}));
  EXPECT_EQ(dropped, std::vector<std::string>{"fc8"});
  const auto fcn_parameters = fcn->named_parameters();
  const auto classifier_parameters = classifier->named_parameters();
  for (const char* name :
       {"conv1.weight",
        "conv2.weight",
        "conv5.bias",
        "fc6.weight",
        "fc7.bias"}) {
    EXPECT_TRUE(torch::equal(fcn_parameters[name], classifier_parameters[name]))
        << name;
  }

  const auto deploy = caffe::classifier_deploy_prototxt(classifier->spec());
  EXPECT_NE(deploy.find("dim: 227"), std::string::npos) << deploy;
  EXPECT_NE(deploy.find("type: \"InnerProduct\""), std::string::npos);
  EXPECT_EQ(
      deploy.find("type: \"Convolution\"\n  bottom: \"pool5\""),
      std::string::npos);
}

// Squares of two colors, one per class, on a grey background.
std::shared_ptr<testing::TensorDataset> two_colours() {
  std::vector<data::SegmentationExample> examples;
  for (int i = 0; i < 4; ++i) {
    auto image = torch::full({3, 40, 40}, 120.0f);
    auto label = torch::zeros({40, 40}, torch::kLong);
    const int64_t cls = 1 + i % 2;
    const int64_t top = 4 + 3 * i, left = 20 - 3 * i;
    auto box = image.slice(1, top, top + 16).slice(2, left, left + 16);
    box[0].fill_(cls == 1 ? 250.0f : 10.0f);
    box[2].fill_(cls == 1 ? 10.0f : 250.0f);
    label.slice(0, top, top + 16).slice(1, left, left + 16).fill_(cls);
    examples.push_back({image, label});
  }
  return std::make_shared<testing::TensorDataset>(std::move(examples));
}

TEST_F(PretrainTest, TrainsOnCropsAndExports) {
  at::set_num_threads(2);
  const auto data = two_colours();
  auto options = pretrain_defaults();
  options.epochs(12)
      .solver(SolverOptions().base_lr(3e-4).iter_size(12).lr_policy(
          LrPolicy::kFixed))
      .output_dir(path("pre"))
      .threads(2)
      .progress(false);
  // 4 images x (object + background) x mirrored = 16 crops.
  auto trainer = classifier_trainer(data, data, 3, options);
  std::vector<double> losses;
  trainer->on_iteration([&](const IterationInfo& info) {
    losses.push_back(info.loss);
    return true;
  });
  trainer->train();
  ASSERT_EQ(losses.size(), 24u); // 2 updates (12 + 4 crops) per epoch
  EXPECT_LT(losses.back() + losses[losses.size() - 2], losses[0] + losses[1])
      << "the classifier learned nothing";
  const auto& last = trainer->history().back();
  EXPECT_GE(last.val_pixel_accuracy, 0.75) << "crop accuracy";

  // Written when training returned.
  const auto weights = caffe::classifier_caffemodel_path(path("pre"));
  EXPECT_EQ(weights, path("pre/alexnet.caffemodel"));
  const auto stored = caffe::read_caffemodel(weights);
  ASSERT_EQ(stored.layers.back().name, "fc8");
  EXPECT_EQ(stored.layers.back().blobs.at(0).shape, (Shape{3, 4096}));
  std::ifstream deploy(path("pre/alexnet_deploy.prototxt"));
  EXPECT_TRUE(deploy.good());
}

TEST_F(PretrainTest, AugmentationIsRefusedWithAReason) {
  auto options = pretrain_defaults();
  options.augment(data::AugmentOptions().flip(true));
  try {
    classifier_trainer(two_colours(), nullptr, 3, options);
    FAIL() << "augmentation accepted";
  } catch (const c10::Error& error) {
    EXPECT_NE(
        std::string(error.what()).find("mirrored instead"), std::string::npos);
  }
}

} // namespace
} // namespace train
} // namespace fcnlab
