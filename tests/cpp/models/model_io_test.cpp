#include <fcnlab/caffe/caffemodel.h>
#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/models/model_io.h>
#include <fcnlab/util/atomic_file.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <torch/torch.h>

#include <fstream>

namespace fcnlab {
namespace models {
namespace {

using ModelIoTest = testing::SeededTest;

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

TEST_F(ModelIoTest, RoundTripKeepsWeightsOptionsAndClassNames) {
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

TEST_F(ModelIoTest, ACustomNetworkReloadsWithoutItsPrototxt) {
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

TEST_F(ModelIoTest, SavingLeavesNoTemporaryFiles) {
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

TEST_F(ModelIoTest, AnUncommittedWriteNeverReplacesTheOldFile) {
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

TEST_F(ModelIoTest, ClassNameCountMustMatch) {
  EXPECT_NE(
      testing::error_message_of([&] {
        save_model(trained_looking_model(), path("m.pt"), {"one"});
      }).find("1 class names for a model of 5 classes"),
      std::string::npos);
}

TEST_F(ModelIoTest, BadFilesAreNamedInErrors) {
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

} // namespace
} // namespace models
} // namespace fcnlab
