#pragma once

#include "../../util/detail/tensor_file.h"

#include <fcnlab/models/fcn_net.h>
#include <fcnlab/train/hooks.h>
#include <fcnlab/train/solver.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace fcnlab {
namespace train {
namespace detail {

/// Where training stands, as a snapshot records it.
struct TrainingPosition {
  int64_t epoch = 0;
  /// Images of the current epoch the whole job has seen (a rank's samples
  /// done times the ranks); "position" in the file.
  int64_t epoch_images_done = 0;
  int64_t iteration = 0;
  int64_t num_classes = 0;
  std::vector<EpochInfo> history;
};

/// An epoch's record as metrics.jsonl and snapshots store it (non-finite
/// values as null).
nlohmann::json epoch_to_json(const EpochInfo& epoch);

/// Writes a snapshot (weights, solver state, position, RNG state, and
/// `scaler`, the loss-scaling state of float16 runs, stored as
/// "scaler.<name>") to `path`, atomically.
void write_snapshot(
    const std::string& path,
    const models::FcnNet& model,
    const Solver& solver,
    const TrainingPosition& position,
    const util::detail::NamedTensors& scaler = {});

/// A snapshot whose position has been read; its tensors are read by
/// restore_snapshot().
struct SnapshotFile {
  TrainingPosition position;
  std::unique_ptr<util::detail::TensorFileReader> reader;
};

/// Reads and checks a snapshot's position (a tensor file: "model.<name>"
/// weights, "solver.<name>" solver state, "rng" the CPU generator's state).
/// Throws c10::Error naming `path` when it is missing, not an fcnlab
/// snapshot (a model file, a zip of fcnlab 0.1: upgrade it), or damaged.
SnapshotFile read_snapshot(const std::string& path);

/// Reads the weights, solver state and RNG state of `snapshot` into `model`
/// and `solver`, and returns its loss-scaling state by name without the
/// "scaler." prefix (empty unless a float16 run wrote it). Throws c10::Error
/// naming the file when they do not fit (another network or class count);
/// the model and solver are then partly filled, so training must not go on
/// with them.
util::detail::NamedTensors restore_snapshot(
    SnapshotFile& snapshot,
    models::FcnNet& model,
    Solver& solver);

} // namespace detail
} // namespace train
} // namespace fcnlab
