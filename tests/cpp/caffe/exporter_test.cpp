#include <fcnlab/caffe/exporter.h>
#include <fcnlab/caffe/importer.h>
#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/fcn_alexnet.h>

#include "../../../fuzz/tiny_net.h"
#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <opencv2/dnn.hpp>
#include <torch/torch.h>

#include <filesystem>

namespace fcnlab {
namespace caffe {
namespace {

using ExporterTest = testing::SeededTest;

models::FcnAlexNet random_model(models::FcnAlexNetOptions options = {}) {
  models::FcnAlexNet net(options);
  torch::NoGradGuard no_grad;
  // Small random biases and a non-zero scorer, so every blob matters.
  for (auto& pair : net->named_parameters()) {
    if (pair.value().requires_grad() &&
        pair.key().find("bias") != std::string::npos) {
      pair.value().normal_(0, 0.05);
    }
  }
  torch::nn::init::normal_(net->score_fr->weight, 0, 0.02);
  net->eval();
  return net;
}

// Runs the exported network through OpenCV's Caffe importer and dnn module,
// an implementation of Caffe's layers that fcnlab did not write.
torch::Tensor opencv_forward(
    const std::string& prototxt,
    const std::string& caffemodel,
    const torch::Tensor& bgr) {
  cv::dnn::Net net = cv::dnn::readNetFromCaffe(prototxt, caffemodel);
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  const auto input = bgr.contiguous();
  const int dims[] = {
      1, 3, static_cast<int>(bgr.size(2)), static_cast<int>(bgr.size(3))};
  cv::Mat blob(4, dims, CV_32F, input.data_ptr<float>());
  net.setInput(blob, "data");
  cv::Mat out = net.forward("score");
  std::vector<int64_t> shape(out.size.p, out.size.p + out.dims);
  return torch::from_blob(out.ptr<float>(), shape, torch::kFloat).clone();
}

// A VGG16 FCN with its He-normal trunk and random scorers and biases.
models::FcnNet random_vgg_fcn(const std::string& name) {
  models::FcnNet net(models::builtin_net(name, 5));
  torch::NoGradGuard no_grad;
  for (auto& parameter : net->layer_parameters()) {
    if (parameter.rule.lr_mult == 0) {
      continue;
    }
    if (parameter.tensor.dim() == 1) {
      parameter.tensor.normal_(0, 0.05);
    } else if (parameter.name.rfind("score", 0) == 0) {
      parameter.tensor.normal_(0, 0.01);
    }
  }
  net->eval();
  return net;
}

void expect_opencv_agrees(
    models::FcnNet model,
    const std::string& dir,
    int64_t height,
    int64_t width) {
  const std::string prototxt = dir + "/deploy.prototxt";
  const std::string caffemodel = dir + "/fcn.caffemodel";
  save_caffemodel(model, caffemodel);
  write_deploy_prototxt(model->spec(), prototxt, height, width);

  const auto bgr = torch::rand({1, 3, height, width}) * 255;
  torch::NoGradGuard no_grad;
  const auto ours = model->forward(bgr);
  const auto theirs = opencv_forward(prototxt, caffemodel, bgr);
  ASSERT_EQ(theirs.sizes(), ours.sizes());
  const double scale = ours.abs().max().item<double>();
  ASSERT_GT(scale, 1e-3) << "degenerate scores make the comparison empty";
  const double difference = (ours - theirs).abs().max().item<double>();
  EXPECT_LE(difference, 1e-4 * scale)
      << height << "x" << width << ": max |difference| " << difference
      << " for scores up to " << scale;
}

TEST_F(ExporterTest, OpenCvDnnAgreesAt64x80) {
  expect_opencv_agrees(random_model(), dir_.string(), 64, 80);
}

TEST_F(ExporterTest, OpenCvDnnAgreesAt375x500) {
  expect_opencv_agrees(random_model(), dir_.string(), 375, 500);
}

TEST_F(ExporterTest, OpenCvDnnAgreesWithPerChannelMeans) {
  expect_opencv_agrees(
      random_model(
          models::FcnAlexNetOptions(5).mean({104.00699, 116.66877, 122.67892})),
      dir_.string(),
      50,
      61);
}

TEST_F(ExporterTest, OpenCvDnnAgreesOnFcn8sAtAnOddSize) {
  expect_opencv_agrees(random_vgg_fcn("fcn8s"), dir_.string(), 97, 131);
}

TEST_F(ExporterTest, OpenCvDnnAgreesOnFcn16s) {
  expect_opencv_agrees(random_vgg_fcn("fcn16s"), dir_.string(), 97, 131);
}

TEST_F(ExporterTest, OpenCvDnnAgreesOnTheAtOnceNetsScaleLayers) {
  expect_opencv_agrees(random_vgg_fcn("fcn8s_atonce"), dir_.string(), 41, 53);
}

TEST_F(ExporterTest, DeployPrototxtReadsBackAsTheSameNetwork) {
  const auto spec = models::builtin_net("fcn8s", 5);
  const auto deploy = parse_prototxt(deploy_prototxt(spec, 97, 131), "deploy");
  // The mean becomes a fixed 1x1 convolution in front of the layers.
  ASSERT_EQ(deploy.layers.size(), spec.layers.size() + 1);
  EXPECT_EQ(deploy.layers.front().name, "mean");
  EXPECT_EQ(deploy.output, "score");
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    EXPECT_EQ(deploy.layers[i + 1].name, spec.layers[i].name);
    EXPECT_EQ(deploy.layers[i + 1].crop.offsets, spec.layers[i].crop.offsets);
  }
}

TEST_F(ExporterTest, ExportedWeightsImportBackUnchanged) {
  const auto model = random_model();
  save_caffemodel(model, path("fcn.caffemodel"));
  models::FcnAlexNet copy;
  const auto report = load_caffemodel(copy, path("fcn.caffemodel"));
  EXPECT_EQ(report.copied.size(), 9u);
  EXPECT_TRUE(report.reshaped.empty());
  EXPECT_TRUE(report.dropped.empty());
  EXPECT_TRUE(report.kept_initialised.empty());
  for (const auto& pair : model->named_parameters()) {
    EXPECT_TRUE(
        torch::equal(pair.value(), copy->named_parameters()[pair.key()]))
        << pair.key();
  }
}

TEST_F(ExporterTest, DeployPrototxtDescribesTheNetwork) {
  const std::string text =
      deploy_prototxt(models::FcnAlexNetOptions(), 375, 500);
  EXPECT_NE(text.find("type: \"Input\""), std::string::npos);
  EXPECT_NE(text.find("dim: 375"), std::string::npos);
  EXPECT_NE(text.find("shift: -116"), std::string::npos);
  EXPECT_NE(text.find("pad: 100"), std::string::npos);
  EXPECT_NE(text.find("group: 21"), std::string::npos);
  EXPECT_NE(text.find("offset: 18"), std::string::npos);
  EXPECT_EQ(text.find("blobs"), std::string::npos);
}

TEST_F(ExporterTest, ExportCaffeWritesAPairThatOpenCvRuns) {
  auto model = random_model();
  const auto written = export_caffe(model, path("net.caffemodel"), 90, 110);
  EXPECT_EQ(written.weights, path("net.caffemodel"));
  EXPECT_EQ(written.prototxt, path("net.prototxt"));
  const auto bgr = torch::rand({1, 3, 90, 110}) * 255;
  torch::NoGradGuard no_grad;
  const auto ours = model->forward(bgr);
  const auto theirs = opencv_forward(written.prototxt, written.weights, bgr);
  ASSERT_EQ(theirs.sizes(), ours.sizes());
  EXPECT_LE(
      (ours - theirs).abs().max().item<double>(),
      1e-4 * ours.abs().max().item<double>());
}

TEST_F(ExporterTest, AFailedExportLeavesNoFile) {
  const auto model = random_model();
  EXPECT_THROW(export_caffe(model, path("net.onnx")), c10::ValueError);
  // A classifier reads whole planes: another size fails before any file.
  models::FcnNet classifier(
      parse_prototxt(fuzz::kTinyClassifier, "classifier.prototxt"));
  EXPECT_THROW(
      export_caffe(classifier, path("classifier.caffemodel"), 40, 40),
      c10::ValueError);
  // The prototxt's place is taken by a directory: the caffemodel goes too.
  std::filesystem::create_directories(path("blocked.prototxt"));
  EXPECT_ANY_THROW(export_caffe(model, path("blocked.caffemodel")));
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename(), "blocked.prototxt") << entry.path();
  }
}

} // namespace
} // namespace caffe
} // namespace fcnlab
