#pragma once

#include <fcnlab/train/solver.h>
#include <fcnlab/train/solver_file.h>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace fcnlab {
namespace tools {

/// The solver and learning-rate flags of `train` (DIGITS' Solver options),
/// and --solver-file, whose settings they override.
struct SolverFlags {
  std::string file;
  std::string solver = "sgd";
  double lr = 1e-4, momentum = 0.9, momentum2 = 0.999, rms_decay = 0.99,
         delta = 1e-8, weight_decay = 5e-4, clip_gradients = -1;
  std::string regularization = "L2";
  std::string lr_policy = "step";
  double gamma = 0.1, power = 1.0;
  int64_t step_size = 0, iter_size = 1;

  void add_to(CLI::App* command);

  /// The options. Without a solver file: the flags, with
  /// train::solver_defaults() where --lr or --momentum was not given (they
  /// depend on the network's loss and the solver). With one: the file's,
  /// overridden by the flags given. Checks the combination; errors name the
  /// flag.
  train::SolverOptions options(
      bool normalized_loss,
      const train::SolverFile* solver_file = nullptr) const;

 private:
  CLI::Option* solver_option_ = nullptr;
  CLI::Option* lr_option_ = nullptr;
  CLI::Option* momentum_option_ = nullptr;
  /// The flags that set one field each, with how they set it.
  std::vector<
      std::pair<CLI::Option*, std::function<void(train::SolverOptions&)>>>
      setters_;
};

} // namespace tools
} // namespace fcnlab
