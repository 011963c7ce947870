// ONNX exports checked by implementations fcnlab did not write: ONNX's own
// checker and schema, ONNX Runtime (through Node) and OpenCV's ONNX
// importer, against fcnlab's own forward.
#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/deploy/onnx_export.h>
#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/convolutionalize.h>
#include <fcnlab/models/fcn_alexnet.h>

#include "../../../fuzz/tiny_net.h"
#include "onnx_runtime.h"
#include "prototxt_fixtures.h"
#include "seeded_test.h"

#include <onnx/checker.h>
#include <onnx/onnx-ml.pb.h>
#include <opencv2/dnn.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace fcnlab {
namespace deploy {
namespace {

using OnnxExportTest = testing::SeededTest;

// Every layer type fcnlab runs, in one small fully convolutional network.
constexpr const char* kEveryLayerNet = R"(name: "every-layer"
input: "data"
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 6 kernel_size: 3 pad: 2 dilation: 2 group: 1 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1"
  relu_param { negative_slope: 0.1 } }
layer { name: "norm1" type: "LRN" bottom: "conv1" top: "norm1"
  lrn_param { local_size: 3 alpha: 0.001 beta: 0.75 k: 2 } }
layer { name: "pool1" type: "Pooling" bottom: "norm1" top: "pool1"
  pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2"
  convolution_param { num_output: 6 kernel_size: 3 pad: 1 group: 2 } }
layer { name: "bn2" type: "BatchNorm" bottom: "conv2" top: "conv2" }
layer { name: "scale2" type: "Scale" bottom: "conv2" top: "conv2"
  scale_param { bias_term: true } }
layer { name: "power2" type: "Power" bottom: "conv2" top: "power2"
  power_param { power: 2 scale: 0.5 shift: 3 } }
layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2"
  pooling_param { pool: MAX kernel_size: 3 stride: 1 pad: 1 } }
layer { name: "sum" type: "Eltwise" bottom: "pool2" bottom: "power2" bottom: "conv2"
  top: "sum" eltwise_param { operation: SUM coeff: 0.5 coeff: -1 coeff: 2 } }
layer { name: "product" type: "Eltwise" bottom: "sum" bottom: "conv2" top: "product"
  eltwise_param { operation: PROD } }
layer { name: "max" type: "Eltwise" bottom: "product" bottom: "sum" top: "max"
  eltwise_param { operation: MAX } }
layer { name: "drop" type: "Dropout" bottom: "max" top: "max" }
layer { name: "both" type: "Concat" bottom: "max" bottom: "conv2" top: "both" }
layer { name: "score_fr" type: "Convolution" bottom: "both" top: "score_fr"
  convolution_param { num_output: 3 kernel_size: 1 } }
layer { name: "upscore" type: "Deconvolution" bottom: "score_fr" top: "upscore"
  param { lr_mult: 0 }
  convolution_param { num_output: 3 group: 3 bias_term: false kernel_size: 3 stride: 2 } }
layer { name: "score" type: "Crop" bottom: "upscore" bottom: "data" top: "score" }
layer { name: "prob" type: "Softmax" bottom: "score" top: "prob" }
)";

// Global pooling, both kinds: scores of 1x1 at any input size.
constexpr const char* kGlobalPoolingNet = R"(name: "global"
input: "data"
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 3 } }
layer { name: "max" type: "Pooling" bottom: "conv1" top: "max"
  pooling_param { pool: MAX global_pooling: true } }
layer { name: "average" type: "Pooling" bottom: "conv1" top: "average"
  pooling_param { pool: AVE global_pooling: true } }
layer { name: "both" type: "Eltwise" bottom: "max" bottom: "average" top: "both" }
layer { name: "score" type: "Convolution" bottom: "both" top: "score"
  convolution_param { num_output: 3 kernel_size: 1 } }
)";

// Random weights and statistics, so that every blob matters: zero scorers
// would make any export agree.
models::FcnNet randomized(models::FcnNet net) {
  torch::NoGradGuard no_grad;
  for (auto& p : net->named_parameters()) {
    const std::string& name = p.key();
    torch::Tensor t = p.value();
    if (name.find("mean") != std::string::npos) {
      t.normal_(0, 0.1);
    } else if (name.find("variance") != std::string::npos) {
      t.uniform_(0.5, 2);
    } else if (name.find("factor") != std::string::npos) {
      t.fill_(1.5);
    } else if (!t.requires_grad()) {
      continue; // bilinear upsampling
    } else if (t.dim() == 1) {
      t.normal_(0, 0.05);
    } else if (name.rfind("score", 0) == 0) {
      t.normal_(0, 0.01);
    } else if (t.abs().max().item<double>() == 0) {
      t.normal_(0, 0.1);
    }
  }
  net->eval();
  return net;
}

models::FcnNet from_prototxt(const std::string& text, const std::string& name) {
  return randomized(models::FcnNet(caffe::parse_prototxt(text, name)));
}

torch::Tensor image(int64_t height, int64_t width) {
  return torch::rand({1, 3, height, width}) * 255;
}

torch::Tensor fcnlab_forward(models::FcnNet& model, const torch::Tensor& bgr) {
  torch::NoGradGuard no_grad;
  return model->forward(bgr);
}

void expect_close(
    const torch::Tensor& theirs,
    const torch::Tensor& ours,
    const std::string& what) {
  ASSERT_EQ(theirs.sizes(), ours.sizes()) << what;
  const double scale = ours.abs().max().item<double>();
  ASSERT_GT(scale, 0) << what << ": the scores are all zero";
  EXPECT_LE((theirs - ours).abs().max().item<double>(), 1e-4 * scale) << what;
}

// Equal class maps up to ties within float error: the class the runtime
// picked scores, in fcnlab's scores, within the tolerance of the best.
void expect_same_classes(
    const torch::Tensor& classes,
    const torch::Tensor& scores,
    const std::string& what) {
  ASSERT_EQ(classes.dim(), 3) << what;
  const auto best = std::get<0>(scores.max(1));
  const auto picked = scores.gather(1, classes.unsqueeze(1)).squeeze(1);
  const double tolerance = 1e-4 * scores.abs().max().item<double>();
  EXPECT_LE((best - picked).max().item<double>(), tolerance) << what;
  EXPECT_GT(
      classes.eq(scores.argmax(1)).to(torch::kDouble).mean().item<double>(),
      0.999)
      << what;
}

onnx::ModelProto read_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromIstream(&in)) << path;
  return model;
}

torch::Tensor opencv_forward(
    const std::string& path,
    const torch::Tensor& input) {
  cv::dnn::Net net = cv::dnn::readNetFromONNX(path);
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  const auto values = input.contiguous();
  const int dims[] = {
      1, 3, static_cast<int>(values.size(2)), static_cast<int>(values.size(3))};
  net.setInput(cv::Mat(4, dims, CV_32F, values.data_ptr<float>()));
  cv::Mat out = net.forward();
  std::vector<int64_t> shape(out.size.p, out.size.p + out.dims);
  return torch::from_blob(out.ptr<float>(), shape, torch::kFloat).clone();
}

#define SKIP_WITHOUT_ONNX_RUNTIME()                              \
  do {                                                           \
    const std::string missing = testing::onnx_runtime_missing(); \
    if (!missing.empty()) {                                      \
      GTEST_SKIP() << missing;                                   \
    }                                                            \
  } while (false)

TEST_F(OnnxExportTest, NodesCarryTheCaffeLayerNamesAndTheInputContract) {
  models::FcnAlexNet model;
  const auto written = export_onnx(model, path("alexnet.onnx"));
  EXPECT_EQ(written.height, 0);
  const auto proto = read_model(written.path);
  onnx::checker::check_model(proto);
  EXPECT_EQ(proto.ir_version(), 7);
  ASSERT_EQ(proto.opset_import_size(), 1);
  EXPECT_EQ(proto.opset_import(0).version(), 13);
  EXPECT_EQ(proto.producer_name(), "fcnlab");

  std::map<std::string, const onnx::NodeProto*> nodes;
  for (const auto& node : proto.graph().node()) {
    nodes[node.name()] = &node;
  }
  for (const auto& layer : model->spec().layers) {
    if (layer.type == models::LayerType::kDropout) {
      EXPECT_FALSE(nodes.count(layer.name)) << layer.name;
    } else {
      EXPECT_TRUE(nodes.count(layer.name)) << layer.name;
    }
  }
  EXPECT_EQ(nodes.at("conv1")->op_type(), "Conv");
  EXPECT_EQ(nodes.at("norm1")->op_type(), "LRN");
  EXPECT_EQ(nodes.at("upscore")->op_type(), "ConvTranspose");
  EXPECT_EQ(nodes.at("score")->op_type(), "Slice");
  // DIGITS' FCN-Alexnet shifts its input by a Power layer.
  EXPECT_EQ(nodes.at("shift")->op_type(), "Add");
  const auto& pool = *nodes.at("pool1");
  EXPECT_EQ(pool.op_type(), "MaxPool");
  bool ceil = false;
  for (const auto& attribute : pool.attribute()) {
    ceil |= attribute.name() == "ceil_mode" && attribute.i() == 1;
  }
  EXPECT_TRUE(ceil) << "Caffe rounds pooled sizes up";
  // The crop reads the size of the input when the model runs.
  EXPECT_TRUE(nodes.count("score/shape"));

  const auto& input = proto.graph().input(0);
  EXPECT_EQ(input.name(), "data");
  const auto& dims = input.type().tensor_type().shape().dim();
  ASSERT_EQ(dims.size(), 4);
  EXPECT_EQ(dims[0].dim_param(), "batch");
  EXPECT_EQ(dims[1].dim_value(), 3);
  EXPECT_EQ(dims[2].dim_param(), "height");
  EXPECT_EQ(dims[3].dim_param(), "width");
  EXPECT_EQ(proto.graph().output(0).name(), "score");
  std::map<std::string, std::string> metadata;
  for (const auto& entry : proto.metadata_props()) {
    metadata[entry.key()] = entry.value();
  }
  EXPECT_EQ(metadata.at("fcnlab.classes"), "21");
  EXPECT_NE(metadata.at("fcnlab.input").find("BGR"), std::string::npos);
  EXPECT_EQ(metadata.at("fcnlab.input"), written.input);
}

// A classifier made fully convolutional: score_fr, upscore, score.
models::FcnNet convolutionalized_classifier() {
  models::ConvolutionalizeOptions options;
  options.num_classes = 4;
  return randomized(models::FcnNet(models::convolutionalize(
      caffe::parse_prototxt(fuzz::kTinyClassifier, "classifier.prototxt"),
      options)));
}

struct Network {
  std::string name;
  std::function<models::FcnNet()> make;
};

std::vector<Network> networks() {
  return {
      {"fcn_alexnet", [] { return randomized(models::FcnAlexNet()); }},
      {"fcn8s",
       [] {
         return randomized(models::FcnNet(models::builtin_net("fcn8s", 5)));
       }},
      {"fcn16s",
       [] {
         return randomized(models::FcnNet(models::builtin_net("fcn16s", 5)));
       }},
      {"fcn8s_atonce",
       [] {
         return randomized(
             models::FcnNet(models::builtin_net("fcn8s_atonce", 5)));
       }},
      {"digits_fcn_alexnet",
       [] {
         return from_prototxt(
             testing::kDigitsFcnAlexnet, "fcn_alexnet.prototxt");
       }},
      {"convolutionalized_classifier", convolutionalized_classifier},
      {"every_layer",
       [] { return from_prototxt(kEveryLayerNet, "every.prototxt"); }},
      {"global_pooling",
       [] { return from_prototxt(kGlobalPoolingNet, "global.prototxt"); }},
  };
}

class OnnxRuntimeTest : public OnnxExportTest,
                        public ::testing::WithParamInterface<size_t> {};

// One file for any size, run at two; a fixed-size one; a class map.
TEST_P(OnnxRuntimeTest, MatchesFcnlabAtTwoSizesAndFixed) {
  SKIP_WITHOUT_ONNX_RUNTIME();
  const Network network = networks()[GetParam()];
  auto model = network.make();
  const std::string dynamic = path(network.name + ".onnx");
  export_onnx(model, dynamic);
  const std::vector<torch::Tensor> images{image(97, 131), image(375, 500)};
  const auto theirs =
      testing::onnx_runtime_forward(dynamic, images, path("run"));
  for (size_t i = 0; i < images.size(); ++i) {
    expect_close(
        theirs[i],
        fcnlab_forward(model, images[i]),
        network.name + " at " + std::to_string(images[i].size(2)) + "x" +
            std::to_string(images[i].size(3)));
  }
  OnnxExportOptions fixed;
  fixed.height = 97;
  fixed.width = 131;
  fixed.output = OnnxOutput::kClasses;
  const std::string classes = path(network.name + "_classes.onnx");
  EXPECT_EQ(export_onnx(model, classes, fixed).height, 97);
  const auto bgr = image(97, 131);
  expect_same_classes(
      testing::onnx_runtime_forward(classes, bgr, path("run")),
      fcnlab_forward(model, bgr),
      network.name + " classes");
}

INSTANTIATE_TEST_SUITE_P(
    Networks,
    OnnxRuntimeTest,
    ::testing::Range(size_t{0}, networks().size()),
    [](const ::testing::TestParamInfo<size_t>& info) {
      return networks()[info.param].name;
    });

TEST_F(OnnxExportTest, OpenCvRunsTheFixedSizeFiles) {
  for (const auto& network : networks()) {
    auto model = network.make();
    if (network.name == "every_layer") {
      // OpenCV 4.6 miscomputes an Eltwise SUM with coefficients (Mul by a
      // constant before Add; ONNX Runtime runs it exactly, see above):
      // its other layers are checked with coefficients of 1.
      std::string text = kEveryLayerNet;
      const std::string weighted = "coeff: 0.5 coeff: -1 coeff: 2";
      text.replace(text.find(weighted), weighted.size(), "");
      model = from_prototxt(text, "every.prototxt");
    }
    OnnxExportOptions options;
    options.height = 90;
    options.width = 110;
    const auto written =
        export_onnx(model, path(network.name + ".onnx"), options);
    if (network.name == "fcn8s") {
      // FCN's nets subtract their mean inside the model.
      EXPECT_NE(written.input.find("the mean (104.007"), std::string::npos)
          << written.input;
    }
    const auto bgr = image(90, 110);
    expect_close(
        opencv_forward(written.path, bgr),
        fcnlab_forward(model, bgr),
        network.name);
  }
}

TEST_F(OnnxExportTest, ClassifiersAreWrittenAtTheirDeclaredSize) {
  SKIP_WITHOUT_ONNX_RUNTIME();
  // InnerProduct, Flatten and Softmax: their weights fit 12x12 only.
  auto model = from_prototxt(fuzz::kTinyClassifier, "classifier.prototxt");
  const auto written = export_onnx(model, path("classifier.onnx"));
  EXPECT_EQ(written.height, 12);
  EXPECT_EQ(written.width, 12);
  const auto bgr = image(12, 12);
  expect_close(
      testing::onnx_runtime_forward(written.path, bgr, path("run")),
      fcnlab_forward(model, bgr),
      "classifier");
  OnnxExportOptions other;
  other.height = other.width = 16;
  EXPECT_THROW(export_onnx(model, path("other.onnx"), other), c10::Error);
}

TEST_F(OnnxExportTest, ProbabilitiesAtOpset11AndOpset13Agree) {
  SKIP_WITHOUT_ONNX_RUNTIME();
  // The softmax's form does not depend on the network: a small one.
  auto model = convolutionalized_classifier();
  const auto bgr = image(64, 80);
  const auto expected = torch::softmax(fcnlab_forward(model, bgr), 1);
  for (const int64_t opset : {11, 13}) {
    OnnxExportOptions options;
    options.opset = opset;
    options.output = OnnxOutput::kProbabilities;
    const std::string file = path("prob" + std::to_string(opset) + ".onnx");
    export_onnx(model, file, options);
    const auto proto = read_model(file);
    EXPECT_EQ(proto.graph().output(0).name(), "probabilities");
    int transposes = 0;
    for (const auto& node : proto.graph().node()) {
      transposes += node.op_type() == "Transpose";
    }
    // Before opset 13, Softmax normalizes C x H x W at once.
    EXPECT_EQ(transposes, opset == 11 ? 2 : 0);
    EXPECT_EQ(proto.ir_version(), opset == 11 ? 6 : 7);
    expect_close(
        testing::onnx_runtime_forward(file, bgr, path("run")),
        expected,
        "opset " + std::to_string(opset));
  }
}

class SegnetTest : public OnnxExportTest,
                   public ::testing::WithParamInterface<std::string> {};

// jetson-inference's segNet feeds (value / 255 - mean) / std of planar RGB
// and reads the coarse scores. It ran DIGITS' FCN-Alexnet; a
// convolutionalized classifier is what a user's own classifier becomes.
TEST_P(SegnetTest, FileTurnsImagenetRgbIntoScoreFr) {
  auto model = GetParam() == "fcn_alexnet" ? randomized(models::FcnAlexNet())
                                           : convolutionalized_classifier();
  OnnxExportOptions options;
  options.height = 120;
  options.width = 160;
  options.segnet = true;
  const auto written = export_onnx(model, path("segnet.onnx"), options);
  const auto proto = read_model(written.path);
  EXPECT_EQ(proto.graph().input(0).name(), "input_0");
  EXPECT_EQ(proto.graph().output(0).name(), "output_0");
  for (const auto& node : proto.graph().node()) {
    EXPECT_NE(node.op_type(), "ConvTranspose") << "segNet upsamples itself";
  }
  const auto bgr = image(120, 160);
  const auto rgb = bgr.flip(1) / 255;
  const auto mean = torch::tensor({0.485, 0.456, 0.406}).view({1, 3, 1, 1});
  const auto std = torch::tensor({0.229, 0.224, 0.225}).view({1, 3, 1, 1});
  const auto normalized = ((rgb - mean) / std).to(torch::kFloat);
  torch::Tensor score_fr;
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, blob] : model->trace(bgr)) {
      if (name == "score_fr") {
        score_fr = blob;
      }
    }
  }
  ASSERT_TRUE(score_fr.defined());
  expect_close(opencv_forward(written.path, normalized), score_fr, "OpenCV");
  if (testing::onnx_runtime_missing().empty()) {
    expect_close(
        testing::onnx_runtime_forward(written.path, normalized, path("run")),
        score_fr,
        "ONNX Runtime");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Networks,
    SegnetTest,
    ::testing::Values("fcn_alexnet", "convolutionalized_classifier"),
    [](const ::testing::TestParamInfo<std::string>& info) {
      return info.param;
    });

TEST_F(OnnxExportTest, RefusesLayersRuntimesDisagreeOn) {
  // Rounding up, pool1's last window starts in the far padding.
  const std::string text = R"(name: "pad" input: "data"
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 2 kernel_size: 3 } }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 pad: 1 } }
layer { name: "score" type: "Convolution" bottom: "pool1" top: "score"
  convolution_param { num_output: 2 kernel_size: 1 } })";
  auto model = from_prototxt(text, "pad.prototxt");
  try {
    export_onnx(model, path("pad.onnx"));
    ADD_FAILURE() << "a pool with pad > kernel - stride was exported";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("pool1"), std::string::npos)
        << e.what();
    EXPECT_NE(
        std::string(e.what()).find("runtimes disagree"), std::string::npos);
  }
  std::string batch_stats = kEveryLayerNet;
  const std::string bn = R"(type: "BatchNorm" bottom: "conv2" top: "conv2" })";
  batch_stats.replace(
      batch_stats.find(bn),
      bn.size(),
      R"(type: "BatchNorm" bottom: "conv2" top: "conv2"
         batch_norm_param { use_global_stats: false } })");
  auto batch_model = from_prototxt(batch_stats, "bn.prototxt");
  EXPECT_THROW(
      {
        try {
          export_onnx(batch_model, path("bn.onnx"));
        } catch (const c10::Error& e) {
          EXPECT_NE(std::string(e.what()).find("bn2"), std::string::npos);
          throw;
        }
      },
      c10::Error);
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

TEST_F(OnnxExportTest, BadOptionsAreNamedAndLeaveNoFile) {
  auto model = from_prototxt(kEveryLayerNet, "every.prototxt");
  auto message = [&](const std::string& out, OnnxExportOptions options) {
    try {
      export_onnx(model, path(out), options);
    } catch (const c10::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(
      message("net.caffemodel", {}).find("a file ending in .onnx"),
      std::string::npos);
  OnnxExportOptions segnet_dynamic;
  segnet_dynamic.segnet = true;
  EXPECT_NE(
      message("s.onnx", segnet_dynamic).find("fixed input size"),
      std::string::npos);
  OnnxExportOptions old;
  old.opset = 10;
  EXPECT_NE(message("o.onnx", old).find("opset 10"), std::string::npos);
  OnnxExportOptions half;
  half.height = 10;
  EXPECT_NE(message("h.onnx", half).find("give both"), std::string::npos);
  OnnxExportOptions tiny;
  tiny.height = tiny.width = 2;
  model = from_prototxt(kGlobalPoolingNet, "global.prototxt");
  EXPECT_NE(
      message("t.onnx", tiny).find("input 2x2 leaves layer conv1"),
      std::string::npos);
  auto no_deconvolution = from_prototxt(fuzz::kTinyNet, "tiny.prototxt");
  OnnxExportOptions segnet;
  segnet.height = segnet.width = 32;
  segnet.segnet = true;
  EXPECT_THROW(
      export_onnx(no_deconvolution, path("n.onnx"), segnet), c10::ValueError);
  // OUT is a directory: nothing written beside it.
  std::filesystem::create_directories(path("taken.onnx"));
  EXPECT_ANY_THROW(export_onnx(model, path("taken.onnx")));
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename(), "taken.onnx") << entry.path();
  }
}

} // namespace
} // namespace deploy
} // namespace fcnlab
