#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/train/solver.h>

#include "../../../csrc/util/detail/tensor_file.h"
#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <torch/torch.h>

#include <cmath>

namespace fcnlab {
namespace train {
namespace {

using SolverTest = testing::SeededTest;

TEST_F(SolverTest, LearningRatePoliciesFollowCaffe) {
  auto o = SolverOptions().base_lr(0.01).gamma(0.1);
  o.lr_policy(LrPolicy::kFixed);
  EXPECT_DOUBLE_EQ(learning_rate(o, 1000), 0.01);
  o.lr_policy(LrPolicy::kStep).step_size(10);
  EXPECT_DOUBLE_EQ(learning_rate(o, 9), 0.01);
  EXPECT_NEAR(learning_rate(o, 10), 0.001, 1e-15);
  EXPECT_NEAR(learning_rate(o, 25), 0.0001, 1e-15);
  o.lr_policy(LrPolicy::kMultiStep).step_values({5, 8});
  EXPECT_DOUBLE_EQ(learning_rate(o, 4), 0.01);
  EXPECT_NEAR(learning_rate(o, 5), 0.001, 1e-15);
  EXPECT_NEAR(learning_rate(o, 8), 0.0001, 1e-15);
  o.lr_policy(LrPolicy::kPoly).max_iter(100).power(2);
  EXPECT_DOUBLE_EQ(learning_rate(o, 50), 0.01 * 0.25);
  EXPECT_DOUBLE_EQ(learning_rate(o, 100), 0.0);
  o.lr_policy(LrPolicy::kInv).gamma(0.5).power(0.75);
  EXPECT_DOUBLE_EQ(learning_rate(o, 2), 0.01 * std::pow(2.0, -0.75));
  o.lr_policy(LrPolicy::kExp).gamma(0.9);
  EXPECT_NEAR(learning_rate(o, 3), 0.01 * 0.729, 1e-15);
  EXPECT_EQ(parse_lr_policy("poly"), LrPolicy::kPoly);
  EXPECT_NE(
      testing::error_message_of([] {
        parse_lr_policy("cosine");
      }).find("got cosine"),
      std::string::npos);
}

TEST_F(SolverTest, TheTrainingLengthFillsOnlyWhatWasLeftOpen) {
  // DIGITS: a step every 33% of 1000 updates; sigmoid's midpoint at 50%.
  const auto step = for_training_length(SolverOptions(), 1000);
  EXPECT_EQ(step.step_size(), 330);
  EXPECT_EQ(step.max_iter(), 1000);
  const auto sigmoid =
      for_training_length(SolverOptions().lr_policy(LrPolicy::kSigmoid), 1000);
  EXPECT_EQ(sigmoid.step_size(), 500);
  // Never a step of 0 updates, however short the run.
  EXPECT_EQ(for_training_length(SolverOptions(), 1).step_size(), 1);
  const auto given =
      for_training_length(SolverOptions().step_size(7).max_iter(9), 1000);
  EXPECT_EQ(given.step_size(), 7);
  EXPECT_EQ(given.max_iter(), 9);
}

TEST_F(SolverTest, DefaultsFollowTheLossNormalization) {
  // DIGITS' FCN-Alexnet (averaged loss) and the FCN reference's VGG nets
  // (summed loss: solver.prototxt's base_lr 1e-10, momentum 0.99).
  const auto digits = solver_defaults(SolverType::kSgd, true);
  EXPECT_EQ(digits.base_lr, 1e-4);
  EXPECT_EQ(digits.momentum, 0.9);
  const auto fcn = solver_defaults(SolverType::kSgd, false);
  EXPECT_EQ(fcn.base_lr, 1e-10);
  EXPECT_EQ(fcn.momentum, 0.99);
  // Caffe refuses momentum for AdaGrad and RMSProp.
  EXPECT_EQ(solver_defaults(SolverType::kAdaGrad, false).momentum, 0.0);
  EXPECT_EQ(solver_defaults(SolverType::kRmsProp, true).momentum, 0.0);
  EXPECT_EQ(solver_defaults(SolverType::kRmsProp, false).base_lr, 1e-10);
}

TEST_F(SolverTest, ThreeStepsMatchTheUpdateEquationsByHand) {
  auto w = torch::tensor({1.0, -2.0}, torch::kDouble).set_requires_grad(true);
  auto b = torch::tensor({0.5}, torch::kDouble).set_requires_grad(true);
  const double lr = 0.1, mu = 0.9, wd = 0.01;
  Solver solver(
      {{"w", w, 1.0, 1.0}, {"b", b, 2.0, 0.0}},
      SolverOptions().base_lr(lr).momentum(mu).weight_decay(wd).lr_policy(
          LrPolicy::kFixed));
  // Loss sum(w^2) + 3b: gradients 2w and 3.
  double w0 = 1.0, w1 = -2.0, bv = 0.5, v0 = 0, v1 = 0, vb = 0;
  for (int step = 0; step < 3; ++step) {
    ((w * w).sum() + 3 * b.sum()).backward();
    solver.step(step);
    v0 = mu * v0 + lr * (2 * w0 + wd * w0);
    v1 = mu * v1 + lr * (2 * w1 + wd * w1);
    vb = mu * vb + lr * 2.0 * 3.0; // lr_mult 2, decay_mult 0
    w0 -= v0;
    w1 -= v1;
    bv -= vb;
    EXPECT_NEAR(w[0].item<double>(), w0, 1e-12) << "step " << step;
    EXPECT_NEAR(w[1].item<double>(), w1, 1e-12) << "step " << step;
    EXPECT_NEAR(b[0].item<double>(), bv, 1e-12) << "step " << step;
    EXPECT_EQ(w.grad().abs().sum().item<double>(), 0.0); // zeroed for the next
  }
}

TEST_F(SolverTest, IterSizeEqualsOneStepOnTheMeanGradient) {
  const auto start = torch::randn({4}, torch::kDouble);
  const std::vector<torch::Tensor> targets = {
      torch::randn({4}, torch::kDouble),
      torch::randn({4}, torch::kDouble),
      torch::randn({4}, torch::kDouble)};
  auto accumulated = start.clone().set_requires_grad(true);
  Solver three(
      {{"a", accumulated}},
      SolverOptions().base_lr(0.05).iter_size(3).lr_policy(LrPolicy::kFixed));
  for (const auto& target : targets) {
    (accumulated - target).pow(2).sum().backward();
  }
  three.step(0);

  auto single = start.clone().set_requires_grad(true);
  Solver one(
      {{"a", single}},
      SolverOptions().base_lr(0.05).lr_policy(LrPolicy::kFixed));
  torch::Tensor summed = torch::zeros({4}, torch::kDouble);
  for (const auto& target : targets) {
    summed += 2 * (start - target);
  }
  single.mutable_grad() = summed / 3;
  one.step(0);
  EXPECT_TRUE(torch::allclose(accumulated, single, 1e-12, 1e-12));
}

TEST_F(SolverTest, FcnAlexnetMultipliers) {
  models::FcnAlexNet net;
  const auto specs = trainable_parameters(net);
  ASSERT_EQ(specs.size(), 16u); // every parameter but upscore.weight
  for (const auto& spec : specs) {
    EXPECT_NE(spec.name, "upscore.weight");
    const bool scorer_bias = spec.name == "score_fr.bias";
    EXPECT_EQ(spec.rule.lr_mult, scorer_bias ? 2.0 : 1.0) << spec.name;
    EXPECT_EQ(spec.rule.decay_mult, scorer_bias ? 0.0 : 1.0) << spec.name;
  }
}

TEST_F(SolverTest, GroupsByMultipliersInFirstSeenOrder) {
  auto parameter = [](const std::string& name, double lr, double decay) {
    return models::NamedParameter{name, torch::zeros({1}), {lr, decay}};
  };
  const auto groups = group_by_multipliers(
      {parameter("a.weight", 1, 1),
       parameter("a.bias", 2, 0),
       parameter("b.weight", 1, 1),
       parameter("c.weight", 1, 0),
       parameter("b.bias", 2, 0)});
  ASSERT_EQ(groups.size(), 3u);
  const std::vector<std::vector<std::string>> expected = {
      {"a.weight", "b.weight"}, {"a.bias", "b.bias"}, {"c.weight"}};
  const std::vector<std::pair<double, double>> rules = {{1, 1}, {2, 0}, {1, 0}};
  for (size_t i = 0; i < groups.size(); ++i) {
    std::vector<std::string> names;
    for (const auto& member : groups[i].parameters) {
      names.push_back(member.name);
    }
    EXPECT_EQ(names, expected[i]);
    EXPECT_EQ(groups[i].rule.lr_mult, rules[i].first);
    EXPECT_EQ(groups[i].rule.decay_mult, rules[i].second);
  }
  EXPECT_TRUE(group_by_multipliers({}).empty());
}

TEST_F(SolverTest, HistorySavesAndLoads) {
  const auto options =
      SolverOptions().lr_policy(LrPolicy::kFixed).base_lr(0.1).weight_decay(0);
  auto w = torch::tensor({1.0, 2.0}).set_requires_grad(true);
  Solver solver({{"w", w}}, options);
  w.sum().backward();
  solver.step(0); // history = 0.1 * gradient 1
  util::detail::write_tensor_file(path("solver.pt"), {}, solver.state());

  auto fresh = torch::tensor({5.0, 6.0}).set_requires_grad(true);
  Solver restored({{"w", fresh}}, options);
  std::map<std::string, torch::Tensor> into;
  for (const auto& [name, tensor] : restored.state()) {
    into.emplace(name, tensor);
  }
  EXPECT_EQ(into.count("history.w"), 1u);
  util::detail::TensorFileReader(path("solver.pt"), "solver")
      .read_tensors(into);
  // With a zero gradient, a step moves by momentum * history alone.
  fresh.mutable_grad() = torch::zeros({2});
  const auto before = fresh.detach().clone();
  restored.step(1);
  EXPECT_TRUE(
      torch::allclose(fresh.detach() - before, torch::full({2}, -0.9 * 0.1)));
}

} // namespace
} // namespace train
} // namespace fcnlab
