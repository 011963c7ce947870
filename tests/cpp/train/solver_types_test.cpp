// Caffe's six solvers against the update equations of caffe's
// src/caffe/solvers/*.cpp, written out per element on doubles.
#include <fcnlab/train/solver.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <torch/torch.h>

#include <cmath>

namespace fcnlab {
namespace train {
namespace {

using SolverTypesTest = testing::SeededTest;

const SolverType kAllSolverTypes[] = {
    SolverType::kSgd,
    SolverType::kNesterov,
    SolverType::kAdaGrad,
    SolverType::kRmsProp,
    SolverType::kAdaDelta,
    SolverType::kAdam};

// One scalar parameter's histories.
struct Scalar {
  double w = 0, h = 0, h2 = 0;
};

// Caffe's ComputeUpdateValue and Update for one element, g already
// normalized and regularized.
void reference_update(
    const SolverOptions& o,
    Scalar& s,
    double g,
    double lr,
    int64_t iteration) {
  const double mu = o.momentum(), delta = o.delta();
  switch (o.type()) {
    case SolverType::kSgd:
      s.h = mu * s.h + lr * g;
      s.w -= s.h;
      break;
    case SolverType::kNesterov: {
      const double old = s.h;
      s.h = mu * s.h + lr * g;
      s.w -= (1 + mu) * s.h - mu * old;
      break;
    }
    case SolverType::kAdaGrad:
      s.h += g * g;
      s.w -= lr * g / (std::sqrt(s.h) + delta);
      break;
    case SolverType::kRmsProp:
      s.h = o.rms_decay() * s.h + (1 - o.rms_decay()) * g * g;
      s.w -= lr * g / (std::sqrt(s.h) + delta);
      break;
    case SolverType::kAdaDelta: {
      s.h = mu * s.h + (1 - mu) * g * g;
      const double u = g * std::sqrt((s.h2 + delta) / (s.h + delta));
      s.h2 = mu * s.h2 + (1 - mu) * u * u;
      s.w -= lr * u;
      break;
    }
    case SolverType::kAdam: {
      const double t = double(iteration + 1), b2 = o.momentum2();
      s.h = mu * s.h + (1 - mu) * g;
      s.h2 = b2 * s.h2 + (1 - b2) * g * g;
      const double correction =
          std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(mu, t));
      s.w -= lr * correction * s.h / (std::sqrt(s.h2) + delta);
      break;
    }
  }
}

SolverOptions options_for(SolverType type) {
  const bool momentumless =
      type == SolverType::kAdaGrad || type == SolverType::kRmsProp;
  return SolverOptions()
      .type(type)
      .base_lr(type == SolverType::kAdaDelta ? 1.0 : 0.1)
      .momentum(momentumless ? 0.0 : 0.9)
      .rms_decay(0.9)
      .delta(type == SolverType::kAdaDelta ? 1e-6 : 1e-8)
      .weight_decay(0.01)
      .lr_policy(LrPolicy::kStep)
      .gamma(0.5)
      .step_size(2); // the rate halves at the third update
}

// Loss sum(w^2) + 3 b: gradients 2 w and 3. w: lr_mult 1, decay_mult 1;
// b: lr_mult 2, decay_mult 0 (a Caffe bias).
void expect_three_caffe_updates(const SolverOptions& options) {
  const std::string what = to_string(options.type()) +
      (options.regularization() == Regularization::kL1 ? " L1" : " L2") +
      (options.fused() ? "" : " fused off");
  auto w = torch::tensor({1.0, -2.0, 0.0}, torch::kDouble).requires_grad_();
  auto b = torch::tensor({0.5}, torch::kDouble).requires_grad_();
  Solver solver({{"w", w, 1.0, 1.0}, {"b", b, 2.0, 0.0}}, options);
  std::vector<Scalar> ws = {{1.0}, {-2.0}, {0.0}};
  Scalar bs{0.5};
  for (int64_t it = 0; it < 3; ++it) {
    ((w * w).sum() + 3 * b.sum()).backward();
    solver.step(it);
    const double rate = options.base_lr() * (it >= 2 ? 0.5 : 1.0);
    for (auto& s : ws) {
      const double sign = (s.w > 0) - (s.w < 0);
      const double decay = options.weight_decay() *
          (options.regularization() == Regularization::kL1 ? sign : s.w);
      reference_update(options, s, 2 * s.w + decay, rate, it);
    }
    reference_update(options, bs, 3.0, 2 * rate, it);
    for (int i = 0; i < 3; ++i) {
      EXPECT_NEAR(w[i].item<double>(), ws[i].w, 1e-12)
          << what << " step " << it << " w[" << i << "]";
    }
    EXPECT_NEAR(b[0].item<double>(), bs.w, 1e-12) << what << " step " << it;
  }
  EXPECT_NE(w[0].item<double>(), 1.0) << what << " did not move";
}

// Both ways of updating: one pass over contiguous CPU tensors, and one ATen
// operation per term.
TEST_F(SolverTypesTest, EverySolverFollowsCaffesEquationsForThreeUpdates) {
  for (const auto type : kAllSolverTypes) {
    for (const bool fused : {true, false}) {
      expect_three_caffe_updates(options_for(type).fused(fused));
      expect_three_caffe_updates(
          options_for(type).fused(fused).regularization(Regularization::kL1));
    }
  }
}

// Every solver on float weights large enough to be split over threads: the
// one-pass update of contiguous tensors and the per-term ATen update of a
// non-contiguous weight follow the per-term update on doubles (whose
// equations the test above checks), and leave the gradient zero. Gradients
// keep away from zero, where adaptive solvers' g / sqrt(h) is ill-conditioned.
TEST_F(
    SolverTypesTest,
    EverySolverOnLargeFloatTensorsMatchesTheUpdateOnDoubles) {
  const int64_t n = 3 * 65536 + 7;
  for (const auto type : kAllSolverTypes) {
    for (const auto regularization :
         {Regularization::kL2, Regularization::kL1}) {
      for (const bool contiguous : {true, false}) {
        const auto what = to_string(type) +
            (regularization == Regularization::kL1 ? " L1" : " L2") +
            (contiguous ? " contiguous" : " non-contiguous");
        const auto options =
            options_for(type).iter_size(2).regularization(regularization);
        const auto start = torch::randn({n});
        auto w = contiguous
            ? start.clone().requires_grad_()
            : torch::stack({start, start}, 1).select(1, 0).requires_grad_();
        ASSERT_EQ(w.is_contiguous(), contiguous) << what;
        auto reference = start.to(torch::kDouble).requires_grad_();
        Solver solver({{"w", w}}, options);
        Solver on_doubles(
            {{"w", reference}}, SolverOptions(options).fused(false));
        for (int64_t it = 0; it < 3; ++it) {
          const auto gradient =
              (torch::rand({n}) + 0.5) * torch::randn({n}).sign();
          w.mutable_grad() = gradient.clone();
          reference.mutable_grad() = gradient.to(torch::kDouble);
          solver.step(it);
          on_doubles.step(it);
          const auto got = w.detach().to(torch::kDouble);
          const auto want = reference.detach();
          EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-6))
              << what << " step " << it << ": max difference "
              << (got - want).abs().max().item<double>();
          EXPECT_GT(
              (want - start.to(torch::kDouble)).abs().max().item<double>(),
              1e-3)
              << what << " did not move";
          EXPECT_EQ(w.grad().abs().sum().item<float>(), 0.0f) << what;
        }
      }
    }
  }
}

TEST_F(SolverTypesTest, ClippingScalesAllGradientsByTheGlobalNorm) {
  // Gradients (3, 4) and (12): global norm 13, clipped to 6.5 = half.
  auto a = torch::zeros({2}, torch::kDouble).requires_grad_();
  auto c = torch::zeros({1}, torch::kDouble).requires_grad_();
  const auto options = SolverOptions()
                           .momentum(0)
                           .weight_decay(0)
                           .base_lr(1)
                           .lr_policy(LrPolicy::kFixed)
                           .iter_size(2) // clipping comes before the / 2
                           .clip_gradients(6.5);
  Solver solver({{"a", a}, {"c", c}}, options);
  (a * torch::tensor({3.0, 4.0}, torch::kDouble)).sum().backward();
  (12 * c).sum().backward();
  solver.step(0);
  EXPECT_NEAR(a[0].item<double>(), -3.0 / 2 / 2, 1e-12);
  EXPECT_NEAR(a[1].item<double>(), -4.0 / 2 / 2, 1e-12);
  EXPECT_NEAR(c[0].item<double>(), -12.0 / 2 / 2, 1e-12);
  // Below the limit nothing is scaled.
  (a * torch::tensor({0.3, 0.4}, torch::kDouble)).sum().backward();
  solver.step(1);
  EXPECT_NEAR(a[0].item<double>(), -0.75 - 0.15, 1e-12);
}

TEST_F(SolverTypesTest, AdamAndRmsPropResumeBitIdentically) {
  for (const auto type : {SolverType::kAdam, SolverType::kRmsProp}) {
    const auto options = options_for(type);
    const auto start = torch::randn({5});
    const auto target = torch::randn({5});
    auto step_on = [&](torch::Tensor& w, Solver& solver, int64_t it) {
      ((w - target * double(it + 1)).pow(2).sum()).backward();
      solver.step(it);
    };
    auto whole = start.clone().requires_grad_();
    Solver uninterrupted({{"w", whole}}, options);
    for (int64_t it = 0; it < 5; ++it) {
      step_on(whole, uninterrupted, it);
    }
    auto first = start.clone().requires_grad_();
    Solver before({{"w", first}}, options);
    for (int64_t it = 0; it < 2; ++it) {
      step_on(first, before, it);
    }
    auto second = first.detach().clone().requires_grad_();
    Solver after({{"w", second}}, options);
    const auto saved = before.state();
    const auto fresh = after.state();
    ASSERT_EQ(saved.size(), type == SolverType::kAdam ? 2u : 1u);
    for (size_t i = 0; i < saved.size(); ++i) {
      EXPECT_EQ(saved[i].first, fresh[i].first);
      fresh[i].second.copy_(saved[i].second);
    }
    for (int64_t it = 2; it < 5; ++it) {
      step_on(second, after, it);
    }
    EXPECT_TRUE(torch::equal(second, whole)) << to_string(type);
  }
}

TEST_F(SolverTypesTest, NamesAndNonsenseOptionsAreNamedErrors) {
  EXPECT_EQ(parse_solver_type("AdaGrad"), SolverType::kAdaGrad);
  EXPECT_EQ(parse_solver_type("ADAM"), SolverType::kAdam);
  EXPECT_EQ(to_string(SolverType::kRmsProp), "rmsprop");
  EXPECT_EQ(parse_regularization("L1"), Regularization::kL1);
  const auto message = [](const SolverOptions& o) {
    return testing::error_message_of([&] { check_solver_options(o); });
  };
  EXPECT_NE(
      testing::error_message_of([] {
        parse_solver_type("lbfgs");
      }).find("got lbfgs"),
      std::string::npos);
  EXPECT_NE(
      testing::error_message_of([] {
        parse_regularization("L3");
      }).find("got L3"),
      std::string::npos);
  const std::vector<std::pair<SolverOptions, std::string>> bad = {
      {SolverOptions().base_lr(0), "base_lr must be > 0, got 0"},
      {SolverOptions().base_lr(-1), "base_lr must be > 0, got -1"},
      {SolverOptions().momentum(1), "momentum must be in [0, 1), got 1"},
      {SolverOptions().momentum2(-0.1), "momentum2 must be in [0, 1)"},
      {SolverOptions().rms_decay(1.5), "rms_decay must be in [0, 1)"},
      {SolverOptions().delta(0), "delta must be > 0"},
      {SolverOptions().weight_decay(-1), "weight_decay must be >= 0"},
      {SolverOptions().iter_size(0), "iter_size must be >= 1, got 0"},
      {SolverOptions().type(SolverType::kAdaGrad),
       "adagrad takes no momentum (Caffe requires 0), got 0.9"}};
  for (const auto& [options, expected] : bad) {
    EXPECT_NE(message(options).find(expected), std::string::npos)
        << expected << " / " << message(options);
  }
  EXPECT_EQ(
      message(SolverOptions().type(SolverType::kRmsProp).momentum(0)),
      "(no exception)");
}

TEST_F(SolverTypesTest, SigmoidPolicyIsCaffes) {
  const auto o =
      SolverOptions().base_lr(0.01).gamma(0.1).step_size(50).lr_policy(
          LrPolicy::kSigmoid);
  EXPECT_DOUBLE_EQ(learning_rate(o, 50), 0.005);
  EXPECT_DOUBLE_EQ(learning_rate(o, 60), 0.01 / (1 + std::exp(-1.0)));
  EXPECT_EQ(parse_lr_policy("sigmoid"), LrPolicy::kSigmoid);
}

} // namespace
} // namespace train
} // namespace fcnlab
