#pragma once

#include <fcnlab/train/solver.h>
#include <fcnlab/train/trainer.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fcnlab {
namespace train {

/// A Caffe solver file (SolverParameter in text format, what DIGITS writes
/// for every job and FCN keeps beside every net) in fcnlab's terms.
struct SolverFile {
  std::string path;
  /// type (or the legacy solver_type enum), base_lr, lr_policy with gamma,
  /// power, stepsize and stepvalue, momentum, momentum2, delta, rms_decay,
  /// weight_decay, regularization_type, clip_gradients, iter_size and
  /// max_iter, with Caffe's defaults where the file is silent.
  SolverOptions solver;
  /// `net` or `train_net`, relative to the file's folder; empty without.
  std::string net;
  /// The first of `weights`, relative to the file's folder; empty without.
  std::string weights;
  /// Updates to run; 0 when the file sets none.
  int64_t max_iter = 0;
  /// Updates between snapshots, between validations (test_interval) and
  /// between log lines (display); 0 when unset.
  int64_t snapshot = 0;
  int64_t test_interval = 0;
  int64_t display = 0;
  std::optional<int64_t> random_seed;
  /// Fields the file sets that do not apply to fcnlab, by field number:
  /// solver_mode, device_id, snapshot_prefix, test_initialization, test_iter
  /// (fcnlab validates on the whole validation set), average_loss (its log
  /// averages over `display` updates), ...
  std::vector<std::string> ignored;
  /// Every field the file sets, by Caffe's name.
  std::set<std::string> given;

  bool has(const std::string& field) const {
    return given.count(field) > 0;
  }
};

/// Reads a solver file. Throws c10::Error naming `path` (and the line, for
/// syntax) for text that is not a SolverParameter, both `type` and
/// `solver_type`, an unknown type or lr_policy, no base_lr or lr_policy,
/// a policy without the gamma, power or stepsize it needs, an inline
/// net_param (only paths are read), or options check_solver_options()
/// refuses.
SolverFile read_solver_file(const std::string& path);

/// read_solver_file() of `text`; `path` names it and anchors relative
/// paths.
SolverFile parse_solver_file(const std::string& text, const std::string& path);

/// `options` with what `file` says about the run: its solver, max_iter
/// (when set), display as log_every, random_seed as the seed, and snapshot
/// and test_interval, which Caffe counts in updates, as whole epochs of
/// `training_images` images (rounded, at least 1; 0 in the file means at
/// the end of training only). `epochs_note`, when given, receives how
/// those two were rounded.
TrainerOptions with_solver_file(
    TrainerOptions options,
    const SolverFile& file,
    int64_t training_images,
    std::string* epochs_note = nullptr);

/// The settings of a run that a solver file records besides the solver.
struct SolverRun {
  std::string net = "train.prototxt";
  int64_t max_iter = 0;
  int64_t snapshot = 0;
  int64_t test_interval = 0;
  int64_t display = 0;
  std::optional<int64_t> random_seed;
};

/// `options` and `run` as Caffe's solver text, which read_solver_file()
/// (and Caffe) read back to the same solver.
std::string solver_prototxt(const SolverOptions& options, const SolverRun& run);

} // namespace train
} // namespace fcnlab
