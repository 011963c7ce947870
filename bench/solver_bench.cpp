// Times one solver update of all FCN-Alexnet's parameters (57M floats) for
// each of Caffe's solvers: the Solver's one-pass update against the same
// update as one ATen operation per term (SolverOptions::fused off),
// alternating the two. Each update starts from the same random gradients.
// Prints JSON of ms per update (median) and the ratio:
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

fcnlab::train::SolverOptions options_for(SolverType type, bool fused) {
  const bool momentumless =
      type == SolverType::kAdaGrad || type == SolverType::kRmsProp;
  return fcnlab::train::SolverOptions()
      .type(type)
      .base_lr(1e-3)
      .momentum(momentumless ? 0.0 : 0.9)
      .weight_decay(5e-4)
      .lr_policy(fcnlab::train::LrPolicy::kFixed)
      .fused(fused);
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
  const auto specs = fcnlab::train::trainable_parameters(model);
  std::vector<at::Tensor> gradients;
  for (const auto& spec : specs) {
    gradients.push_back(torch::randn_like(spec.tensor));
    spec.tensor.mutable_grad() = torch::zeros_like(spec.tensor);
  }
  // Refills the gradients the previous update zeroed (not timed).
  const auto set_gradients = [&] {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < specs.size(); ++i) {
      specs[i].tensor.mutable_grad().copy_(gradients[i]);
    }
  };
  std::printf("{");
  const char* separator = "";
  for (const auto type :
       {SolverType::kSgd,
        SolverType::kNesterov,
        SolverType::kAdaGrad,
        SolverType::kRmsProp,
        SolverType::kAdaDelta,
        SolverType::kAdam}) {
    fcnlab::train::Solver one_pass(specs, options_for(type, true));
    fcnlab::train::Solver per_term(specs, options_for(type, false));
    const auto milliseconds = [&](fcnlab::train::Solver& solver) {
      set_gradients();
      const auto start = std::chrono::steady_clock::now();
      solver.step(0);
      return std::chrono::duration<double, std::milli>(
                 std::chrono::steady_clock::now() - start)
          .count();
    };
    milliseconds(one_pass); // warm-up: the histories' pages
    milliseconds(per_term);
    std::vector<double> fused, unfused;
    for (int64_t round = 0; round < updates; ++round) {
      // One of each per round, so that a slower spell hits both.
      fused.push_back(milliseconds(one_pass));
      unfused.push_back(milliseconds(per_term));
    }
    std::sort(fused.begin(), fused.end());
    std::sort(unfused.begin(), unfused.end());
    const double f = fcnlab::bench::median(fused);
    const double p = fcnlab::bench::median(unfused);
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
