// Times one solver update of all FCN-Alexnet's parameters (57M floats):
// the Solver's one-pass SGD and Nesterov steps against the same updates
// written as one ATen operation per term, alternating the two. Prints JSON
// of ms per update (median) and the ratio:
//   solver_bench UPDATES THREADS
#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/train/solver.h>

#include "args.h"
#include "timing.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace {

using fcnlab::train::SolverType;

constexpr double kMomentum = 0.9, kRate = 1e-3, kDecay = 5e-4;

// Caffe's update as one ATen operation per term, with the gradient
// regularized into a temporary for Nesterov (as Solver::update does for
// the solvers it does not fuse).
void per_term_update(
    std::vector<at::Tensor>& weights,
    std::vector<at::Tensor>& histories,
    SolverType type) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < weights.size(); ++i) {
    auto& w = weights[i];
    auto& h = histories[i];
    auto g = w.mutable_grad();
    if (type == SolverType::kSgd) {
      h.mul_(kMomentum).add_(g, kRate).add_(w, kRate * kDecay);
      w.sub_(h);
    } else {
      auto regularized = g.add(w, kDecay);
      w.add_(h, kMomentum);
      h.mul_(kMomentum).add_(regularized, kRate);
      w.sub_(h, 1 + kMomentum);
    }
    g.zero_();
  }
}

template <typename Work>
double milliseconds(Work&& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace

int main(int argc, char** argv) {
  const int64_t updates = argc == 3 ? fcnlab::bench::positive(argv[1]) : -1;
  const int64_t threads = argc == 3 ? fcnlab::bench::positive(argv[2]) : -1;
  if (updates < 0 || threads < 0) {
    std::fprintf(stderr, "usage: %s UPDATES THREADS\n", argv[0]);
    return 2;
  }
  at::set_num_threads(static_cast<int>(threads));
  fcnlab::models::FcnAlexNet model(fcnlab::models::FcnAlexNetOptions(21));
  auto specs = fcnlab::train::param_specs(model);
  std::vector<at::Tensor> weights, histories;
  for (auto& spec : specs) {
    spec.parameter.mutable_grad() = torch::randn_like(spec.parameter);
    weights.push_back(spec.parameter);
    histories.push_back(torch::zeros_like(spec.parameter));
  }
  std::printf("{");
  const char* separator = "";
  for (const auto type : {SolverType::kSgd, SolverType::kNesterov}) {
    fcnlab::train::Solver solver(
        specs,
        fcnlab::train::SolverOptions()
            .type(type)
            .base_lr(kRate)
            .momentum(kMomentum)
            .weight_decay(kDecay)
            .lr_policy(fcnlab::train::LrPolicy::kFixed));
    const auto one_pass = [&] { solver.step(0); };
    const auto per_term_ops = [&] {
      per_term_update(weights, histories, type);
    };
    one_pass(); // warm-up: the histories' pages
    per_term_ops();
    std::vector<double> fused, per_term;
    for (int64_t round = 0; round < updates; ++round) {
      // One of each per round, so that a slower spell hits both.
      fused.push_back(milliseconds(one_pass));
      per_term.push_back(milliseconds(per_term_ops));
    }
    std::sort(fused.begin(), fused.end());
    std::sort(per_term.begin(), per_term.end());
    const double f = fcnlab::bench::median(fused);
    const double p = fcnlab::bench::median(per_term);
    std::printf(
        "%s\"%s\": {\"one_pass_ms\": %.2f, \"per_term_ms\": %.2f, "
        "\"ratio\": %.3f}",
        separator,
        fcnlab::train::to_string(type).c_str(),
        f,
        p,
        f / p);
    separator = ", ";
  }
  std::printf("}\n");
  return 0;
}
