#include "../../../csrc/train/detail/grad_scaler.h"
#include "../../../csrc/train/detail/snapshot.h"
#include "../../../fuzz/tiny_net.h"
#include "seeded_test.h"

#include <fcnlab/caffe/prototxt.h>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <limits>

namespace fcnlab {
namespace train {
namespace detail {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(GradScalerTest, ScalesTheLossAndUnscalesFiniteGradients) {
  GradScaler scaler(c10::kCPU); // PyTorch's defaults: 2^16, x2 / x0.5, 2000
  EXPECT_EQ(scaler.current_scale(), 65536.0);
  EXPECT_EQ(scaler.scale(at::tensor(0.5f)).item<float>(), 32768.0f);
  auto a = at::tensor({65536.0f, -131072.0f});
  auto b = at::tensor({3.0f * 65536.0f});
  EXPECT_TRUE(scaler.unscale({a, at::Tensor(), b})); // undefined: skipped
  EXPECT_TRUE(at::equal(a, at::tensor({1.0f, -2.0f})));
  EXPECT_TRUE(at::equal(b, at::tensor({3.0f})));
}

TEST(GradScalerTest, AnOverflowSkipsAndBacksOffAndGrowthNeedsAnUnbrokenRun) {
  GradScaler scaler(c10::kCPU, /*scale=*/8.0, 2.0, 0.5, /*interval=*/3);
  const auto finite = [] { return at::ones({2}); };
  // Hand-derived sequence: scale after each update().
  //   ok ok inf -> 8 8 4 (tracker 1 2 0); ok ok ok -> 4 4 8; nan -> 4
  const std::vector<std::pair<at::Tensor, double>> steps = {
      {finite(), 8},
      {finite(), 8},
      {at::tensor({1.0f, kInf}), 4},
      {finite(), 4},
      {finite(), 4},
      {finite(), 8},
      {at::tensor({std::nanf("")}), 4}};
  for (size_t i = 0; i < steps.size(); ++i) {
    auto grad = steps[i].first.clone();
    const bool finite_grads = at::isfinite(steps[i].first).all().item<bool>();
    EXPECT_EQ(scaler.unscale({grad}), finite_grads) << "step " << i;
    scaler.update();
    EXPECT_EQ(scaler.current_scale(), steps[i].second) << "step " << i;
  }
  const auto state = scaler.state();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0].first, "scale");
  EXPECT_EQ(state[1].first, "growth_tracker");
  EXPECT_EQ(state[1].second.item<int>(), 0);
}

TEST(GradScalerTest, StateTensorsAreLive) {
  GradScaler scaler(c10::kCPU);
  scaler.state()[0].second.fill_(1024.0);
  EXPECT_EQ(scaler.current_scale(), 1024.0);
}

class GradScalerSnapshotTest : public testing::SeededTest {};

TEST_F(GradScalerSnapshotTest, StateTravelsInSnapshotsAndOthersHaveNone) {
  models::FcnNet model(caffe::parse_prototxt(fuzz::kTinyNet));
  Solver solver(trainable_parameters(model), SolverOptions());
  GradScaler scaler(c10::kCPU, 512.0);
  scaler.state()[1].second.fill_(17);
  write_snapshot(
      path("fp16.pt"), model, solver, {1, 0, 3, 3, {}}, scaler.state());
  write_snapshot(path("fp32.pt"), model, solver, {1, 0, 3, 3, {}});

  auto with = read_snapshot(path("fp16.pt"));
  const auto stored = restore_snapshot(with, model, solver);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].first, "scale");
  EXPECT_EQ(stored[0].second.item<float>(), 512.0f);
  EXPECT_EQ(stored[1].first, "growth_tracker");
  EXPECT_EQ(stored[1].second.item<int>(), 17);
  auto without = read_snapshot(path("fp32.pt"));
  EXPECT_TRUE(restore_snapshot(without, model, solver).empty());
}

TEST(GradScalerTest, RefusesSettingsThatCannotConverge) {
  EXPECT_THROW(GradScaler(c10::kCPU, 0.0), c10::Error);
  EXPECT_THROW(GradScaler(c10::kCPU, 1.0, 1.0), c10::Error);
  EXPECT_THROW(GradScaler(c10::kCPU, 1.0, 2.0, 1.0), c10::Error);
  EXPECT_THROW(GradScaler(c10::kCPU, 1.0, 2.0, 0.5, 0), c10::Error);
}

} // namespace
} // namespace detail
} // namespace train
} // namespace fcnlab
