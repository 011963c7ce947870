#include <fcnlab/io/model_file.h>

#include <fcnlab/caffe/caffemodel.h>
#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/util/atomic_file.h>

#include "../../../csrc/util/detail/tensor_file.h"
#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <torch/torch.h>

#include <fstream>

namespace fcnlab {
namespace io {
namespace {

using models::fcn_alexnet_spec;
using models::FcnAlexNet;
using models::FcnAlexNetImpl;
using models::FcnAlexNetOptions;
using models::FcnNet;

using ModelFileTest = testing::SeededTest;

FcnAlexNet trained_looking_model() {
  FcnAlexNet net(
      FcnAlexNetOptions(5).mean({100.0, 110.0, 120.0}).dropout(0.25));
  torch::NoGradGuard no_grad;
  for (auto& parameter : net->parameters()) {
    if (parameter.requires_grad()) {
      parameter.normal_(0, 0.01);
    }
  }
  return net;
}

TEST_F(ModelFileTest, RoundTripKeepsWeightsOptionsAndClassNames) {
  const auto net = trained_looking_model();
  const std::vector<std::string> names = {"bg", "a", "b", "c", "d"};
  save_model(net, path("model.pt"), names);
  const ModelFile loaded = load_model(path("model.pt"));

  EXPECT_EQ(loaded.class_names, names);
  const auto* alexnet = dynamic_cast<const FcnAlexNetImpl*>(loaded.model.get());
  ASSERT_NE(alexnet, nullptr);
  EXPECT_EQ(alexnet->alexnet_options().num_classes(), 5);
  EXPECT_EQ(
      alexnet->alexnet_options().mean(), (std::vector<double>{100, 110, 120}));
  EXPECT_EQ(alexnet->alexnet_options().dropout(), 0.25);
  EXPECT_FALSE(loaded.model->is_training());
  const auto original = net->named_parameters();
  const auto restored = loaded.model->named_parameters();
  ASSERT_EQ(original.size(), restored.size());
  for (const auto& pair : original) {
    EXPECT_TRUE(torch::equal(pair.value(), restored[pair.key()])) << pair.key();
  }
  EXPECT_FALSE(alexnet->upscore->weight.requires_grad());
  EXPECT_TRUE(alexnet->fc6->weight.requires_grad());
}

TEST_F(ModelFileTest, ACustomNetworkReloadsWithoutItsPrototxt) {
  // DIGITS' medical example: FCN-Alexnet's scorer and upsampling cut to 2
  // classes, with a learned (not fixed) upsampling.
  auto spec = fcn_alexnet_spec(FcnAlexNetOptions(2));
  spec.name = "two_classes";
  spec.layers[spec.layers.size() - 2].params = {};
  const auto text = caffe::net_prototxt(spec);
  FcnNet net(caffe::parse_prototxt(text, "two_classes.prototxt"));
  {
    torch::NoGradGuard no_grad;
    net->named_parameters()["score_fr.weight"].normal_(0, 0.01);
  }
  EXPECT_TRUE(net->named_parameters()["upscore.weight"].requires_grad());
  save_model(net, path("two.pt"), {"background", "lesion"});

  ModelFile loaded = load_model(path("two.pt"));
  EXPECT_EQ(dynamic_cast<const FcnAlexNetImpl*>(loaded.model.get()), nullptr);
  EXPECT_EQ(loaded.model->spec().name, "two_classes");
  EXPECT_EQ(loaded.model->num_classes(), 2);
  EXPECT_EQ(
      loaded.class_names, (std::vector<std::string>{"background", "lesion"}));
  EXPECT_TRUE(
      loaded.model->named_parameters()["upscore.weight"].requires_grad());
  const auto bgr = torch::rand({1, 3, 40, 30}) * 255;
  net->eval();
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(loaded.model->forward(bgr), net->forward(bgr)));
}

TEST_F(ModelFileTest, SavingLeavesNoTemporaryFiles) {
  const auto net = trained_looking_model();
  save_model(net, path("model.pt"));
  save_model(net, path("model.pt")); // over an existing file
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename(), "model.pt");
    ++files;
  }
  EXPECT_EQ(files, 1);
  EXPECT_TRUE(is_model_file(path("model.pt")));
}

TEST_F(ModelFileTest, AnUncommittedWriteNeverReplacesTheOldFile) {
  util::write_file_atomically(path("file"), "old");
  {
    util::AtomicFile file(path("file"));
    std::ofstream(file.temp_path()) << "half of the new con";
    // No commit: as if the writer died here.
  }
  EXPECT_EQ(util::read_file(path("file"), "test"), "old");
  EXPECT_EQ(
      std::distance(
          std::filesystem::directory_iterator(dir_),
          std::filesystem::directory_iterator()),
      1);
}

TEST_F(ModelFileTest, ClassNameCountMustMatch) {
  EXPECT_NE(
      testing::error_message_of([&] {
        save_model(trained_looking_model(), path("m.pt"), {"one"});
      }).find("1 class names for a model of 5 classes"),
      std::string::npos);
}

TEST_F(ModelFileTest, BadFilesAreNamedInErrors) {
  EXPECT_NE(
      testing::error_message_of([&] {
        load_model(path("missing.pt"));
      }).find("model: cannot open " + path("missing.pt")),
      std::string::npos);

  caffe::write_caffemodel(
      {"net", {{"conv", "Convolution", {}, {}, {{{1}, {1.0f}}}}}},
      path("net.caffemodel"));
  EXPECT_NE(
      testing::error_message_of([&] {
        load_model(path("net.caffemodel"));
      }).find("is not an fcnlab model file"),
      std::string::npos);

  save_model(trained_looking_model(), path("model.pt"));
  std::string bytes = util::read_file(path("model.pt"), "test");
  std::ofstream(path("cut.pt"), std::ios::binary)
      << bytes.substr(0, bytes.size() / 2);
  EXPECT_NE(
      testing::error_message_of([&] {
        load_model(path("cut.pt"));
      }).find("model: " + path("cut.pt") + " is damaged"),
      std::string::npos);
}

// The weights are in the file, so a description of more parameters than the
// file has bytes for is damage: refused before anything is allocated.
TEST_F(ModelFileTest, ANetworkLargerThanItsFileIsRefused) {
  const char* huge = R"(name: "huge"
layer {
  name: "data" type: "Input" top: "data"
  input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } }
}
layer {
  name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 100000 kernel_size: 100 }
}
layer {
  name: "score" type: "Convolution" bottom: "conv1" top: "score"
  convolution_param { num_output: 3 kernel_size: 1 }
}
)";
  util::detail::write_tensor_file(
      path("huge.pt"),
      {{"format", "fcnlab-model"},
       {"version", 3},
       {"architecture", "net"},
       {"prototxt", huge}},
      {});
  // 100000x3x100x100 + 100000 + 3x100000x1x1 + 3 parameters.
  const auto message =
      testing::error_message_of([&] { load_model(path("huge.pt")); });
  EXPECT_NE(
      message.find(
          "model: " + path("huge.pt") +
          " describes a network of 3000400003 parameters, more "
          "than its "),
      std::string::npos)
      << message;
}

// fcnlab 0.1 wrote LibTorch zip archives; they are refused (LibTorch's
// TorchScript importer crashes on damaged ones) until upgraded once.
TEST_F(ModelFileTest, ZipModelFilesOfVersionTwoLoadAfterAnUpgrade) {
  const auto net = trained_looking_model();
  torch::serialize::OutputArchive archive;
  net->save(archive);
  archive.write(
      "fcnlab_metadata",
      c10::IValue(std::string(
          R"({"format": "fcnlab-model", "version": 2, "architecture": )"
          R"("fcn_alexnet", "options": {"num_classes": 5, "mean": [100.0, )"
          R"(110.0, 120.0], "dropout": 0.25}, "class_names": []})")));
  archive.save_to(path("old.pt"));
  EXPECT_TRUE(is_model_file(path("old.pt")));
  EXPECT_NE(
      testing::error_message_of([&] { load_model(path("old.pt")); })
          .find(
              "is in the zip format of fcnlab 0.1; convert it once with "
              "`fcnlab upgrade " +
              path("old.pt") + "`"),
      std::string::npos);

  EXPECT_EQ(upgrade_legacy_file(path("old.pt")), "model");
  const ModelFile loaded = load_model(path("old.pt"));
  const auto* alexnet = dynamic_cast<const FcnAlexNetImpl*>(loaded.model.get());
  ASSERT_NE(alexnet, nullptr);
  EXPECT_EQ(alexnet->alexnet_options().dropout(), 0.25);
  for (const auto& pair : net->named_parameters()) {
    EXPECT_TRUE(torch::equal(
        pair.value(), loaded.model->named_parameters()[pair.key()]))
        << pair.key();
  }
  EXPECT_NE(
      testing::error_message_of([&] {
        upgrade_legacy_file(path("old.pt"));
      }).find("is not a zip archive of fcnlab 0.1"),
      std::string::npos);
}

// The file's header declares every tensor; bytes that disagree are refused.
TEST_F(ModelFileTest, TensorsThatDisagreeWithTheNetworkAreNamed) {
  save_model(trained_looking_model(), path("model.pt"));
  util::detail::TensorFileReader reader(path("model.pt"), "model");
  auto header = reader.header();
  util::detail::NamedTensors tensors;
  for (const auto& pair : trained_looking_model()->named_parameters()) {
    tensors.emplace_back(
        pair.key(),
        pair.key() == "conv1.weight" ? pair.value().transpose(0, 1)
                                     : pair.value());
  }
  util::detail::write_tensor_file(path("wrong.pt"), header, tensors);
  const auto message =
      testing::error_message_of([&] { load_model(path("wrong.pt")); });
  EXPECT_NE(
      message.find(
          "model: " + path("wrong.pt") +
          ": tensor conv1.weight is Float [3, 96, 11, 11], "
          "expected Float [96, 3, 11, 11]"),
      std::string::npos)
      << message;
}

} // namespace
} // namespace io
} // namespace fcnlab
