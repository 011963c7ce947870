#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/train/dry_run.h>
#include <fcnlab/train/loss.h>
#include <fcnlab/train/trainer.h>
#include <fcnlab/util/autocast.h>
#include <fcnlab/util/device.h>

#include "seeded_test.h"
#include "voc_fixtures.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cmath>

namespace fcnlab {
namespace train {
namespace {

class MixedPrecisionTest : public testing::SeededTest {
 protected:
  void SetUp() override {
    SeededTest::SetUp();
    at::set_num_threads(1);
    for (int i = 0; i < 4; ++i) {
      testing::write_sample(
          path("img"), path("lbl"), "s" + std::to_string(i), 40, 56, 1 + i);
    }
    data_ = std::make_shared<data::VOCSegmentation>(
        path("img"), path("lbl"), data::VocOptions().num_classes(21));
  }

  TrainerOptions options(int64_t epochs, const std::string& amp) const {
    return TrainerOptions()
        .epochs(epochs)
        .solver(SolverOptions().base_lr(1e-3).lr_policy(LrPolicy::kFixed))
        .output_dir(path("out_" + amp))
        .threads(1)
        .workers(1)
        .progress(false)
        .precision(amp);
  }

  // Without dropout, with weights whose scores are not all zero (score_fr
  // starts at zero).
  static models::FcnAlexNet scoring_model() {
    torch::manual_seed(3);
    models::FcnAlexNet model(models::FcnAlexNetOptions(21).dropout(0.0));
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) {
      p.normal_(0, 0.02);
    }
    return model;
  }

  static models::FcnAlexNet fresh_model() {
    torch::manual_seed(42);
    return models::FcnAlexNet(models::FcnAlexNetOptions(21));
  }

  std::shared_ptr<data::VOCSegmentation> data_;
};

TEST_F(MixedPrecisionTest, ForwardInBFloat16IsCloseToFloat32) {
  auto model = scoring_model();
  const auto image = torch::rand({1, 3, 40, 56}) * 255;
  // Both forward paths: with gradients (training) and the inference one.
  for (const bool training : {true, false}) {
    model->train(training);
    const torch::AutoGradMode grad(training);
    const auto reference = model->forward(image);
    at::Tensor mixed;
    {
      const Autocast autocast(c10::DeviceType::CPU, Precision::kBFloat16);
      mixed = model->forward(image);
    }
    EXPECT_EQ(reference.scalar_type(), at::kFloat);
    // bfloat16 keeps 8 significant bits. How its convolutions round
    // depends on the CPU: a few parts in 256 per layer where the CPU has
    // bfloat16 dot products or AVX-512, about 2% per convolution where
    // oneDNN emulates them with AVX2 (measured on one 11x11 convolution
    // alone), so over the 8 weighted layers up to ~10% of the scores. A
    // forward pass that autocast broke is off by about 100%.
    const double scale = reference.abs().max().item<double>();
    const double error =
        (mixed.to(at::kFloat) - reference).abs().max().item<double>();
    const double relative =
        ((mixed.to(at::kFloat) - reference).norm() / reference.norm())
            .item<double>();
    EXPECT_GT(scale, 0);
    EXPECT_GT(error, 0) << "autocast changed nothing, training " << training;
    EXPECT_LT(relative, 0.15) << "training " << training;
    EXPECT_LT(error, 0.2 * scale)
        << "error " << error << " of " << scale << ", training " << training;
  }
  for (const auto& p : model->parameters()) {
    EXPECT_EQ(p.scalar_type(), at::kFloat);
  }
}

TEST_F(MixedPrecisionTest, BFloat16TrainingLearnsAndKeepsFloat32Weights) {
  auto model = fresh_model();
  Trainer trainer(model, data_, data_, options(6, "bf16"));
  std::vector<double> losses;
  trainer.on_iteration([&](const IterationInfo& info) {
    losses.push_back(info.loss);
    return true;
  });
  trainer.train();
  ASSERT_EQ(losses.size(), 24u);
  const double last = (losses[20] + losses[21] + losses[22] + losses[23]) / 4;
  EXPECT_NEAR(losses.front(), std::log(21.0), 1e-2);
  EXPECT_LT(last, 0.5 * losses.front()) << "last " << last;
  for (const auto& p : model->parameters()) {
    EXPECT_EQ(p.scalar_type(), at::kFloat);
  }
  EXPECT_TRUE(std::isfinite(trainer.history().back().val_mean_iu));
}

TEST_F(MixedPrecisionTest, OneBFloat16UpdateIsCloseToButNotTheFloat32One) {
  auto fp32 = fresh_model();
  auto bf16 = fresh_model();
  for (auto [model, amp] : {std::pair{fp32, "fp32"}, std::pair{bf16, "bf16"}}) {
    Trainer trainer(model, data_, nullptr, options(1, amp));
    trainer.on_iteration([](const IterationInfo&) { return false; });
    trainer.train();
  }
  double largest_change = 0, largest_gap = 0;
  const auto start = fresh_model();
  for (const auto& item : fp32->named_parameters()) {
    const auto change = (item.value() - start->named_parameters()[item.key()])
                            .abs()
                            .max()
                            .item<double>();
    const auto gap = (item.value() - bf16->named_parameters()[item.key()])
                         .abs()
                         .max()
                         .item<double>();
    largest_change = std::max(largest_change, change);
    largest_gap = std::max(largest_gap, gap);
  }
  EXPECT_GT(largest_change, 0);
  EXPECT_GT(largest_gap, 0) << "bf16 training ran in float32";
  EXPECT_LT(largest_gap, 0.1 * largest_change);
}

TEST_F(
    MixedPrecisionTest,
    UnavailablePrecisionOrDeviceIsRefusedAtConstruction) {
  EXPECT_THROW(
      Trainer(fresh_model(), data_, nullptr, options(1, "fp16")), c10::Error);
  EXPECT_THROW(
      Trainer(fresh_model(), data_, nullptr, options(1, "half")), c10::Error);
  if (!cuda_available()) {
    EXPECT_THROW(
        Trainer(
            fresh_model(), data_, nullptr, options(1, "fp32").device("cuda")),
        c10::Error);
  }
}

TEST_F(MixedPrecisionTest, DryRunIsOneStepInThePrecisionThatChangesNothing) {
  auto model = scoring_model();
  const auto before = model->clone();
  // The loss of the first image, computed here in float32.
  const auto example = data_->get(0);
  const double expected =
      segmentation_loss(
          before->as<models::FcnNetImpl>()->forward(example.data.unsqueeze(0)),
          example.target.unsqueeze(0),
          model->spec().loss)
          .item<double>();

  const auto fp32 = dry_run(model, *data_, options(1, "fp32"));
  EXPECT_EQ(fp32.image, data_->name(0));
  EXPECT_EQ(fp32.height, 40);
  EXPECT_EQ(fp32.width, 56);
  EXPECT_NEAR(fp32.loss, expected, 1e-6 * expected);
  const auto bf16 = dry_run(model, *data_, options(1, "bf16"));
  EXPECT_NE(bf16.loss, fp32.loss) << "the forward pass ran without autocast";
  EXPECT_NEAR(bf16.loss, expected, 0.15 * expected);

  const auto original = before->named_parameters();
  for (const auto& pair : model->named_parameters()) {
    EXPECT_TRUE(torch::equal(pair.value(), original[pair.key()])) << pair.key();
    EXPECT_TRUE(
        !pair.value().grad().defined() ||
        pair.value().grad().abs().max().item<double>() == 0)
        << pair.key() << " kept a gradient";
  }
  EXPECT_THROW(dry_run(model, *data_, options(1, "fp16")), c10::Error);
}

} // namespace
} // namespace train
} // namespace fcnlab
