#pragma once

#include "mixed_precision.h"
#include "training_state.h"

#include <fcnlab/models/fcn_net.h>
#include <fcnlab/train/solver.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fcnlab {
namespace train {
namespace detail {

/// Snapshots of a training run in `dir`: snapshot_iter_<N>.pt (weights,
/// solver and scaler state, position, history, RNG) and model.pt (the
/// latest weights as a model file), written atomically by rank 0 alone; the
/// newest kSnapshotsKept snapshots stay. Reads what it writes from the
/// Trainer's own model, solver, precision and state.
class Checkpointer {
 public:
  /// Snapshots hold weights and solver history (~450 MiB for FCN-Alexnet).
  static constexpr int kSnapshotsKept = 2;

  Checkpointer(
      std::string dir,
      int64_t rank,
      int64_t world_size,
      std::vector<std::string> class_names,
      const models::FcnNet& model,
      const Solver& solver,
      const MixedPrecision& precision,
      const TrainingState& state);

  /// Creates the folder and removes the temporaries that a run killed while
  /// writing left there (rank 0), naming each on stderr.
  void prepare() const;
  /// Writes a snapshot of the current state; returns its path (every rank
  /// gets the path, only rank 0 writes).
  std::string write();
  /// write(), unless the last snapshot is already of the current update.
  std::string write_unless_current();
  /// The last snapshot written or resumed from; "" before any.
  const std::string& last() const {
    return last_;
  }
  /// Continuing from `path`: the last snapshot until the next is written.
  void resumed_from(const std::string& path);

 private:
  /// Removes all but the newest kSnapshotsKept snapshots.
  void remove_old_snapshots() const;

  std::string dir_;
  int64_t rank_;
  int64_t world_size_;
  std::vector<std::string> class_names_;
  const models::FcnNet& model_;
  const Solver& solver_;
  const MixedPrecision& precision_;
  const TrainingState& state_;
  std::string last_;
  int64_t last_iteration_ = -1; ///< the update of the last write; -1: none
};

} // namespace detail
} // namespace train
} // namespace fcnlab
