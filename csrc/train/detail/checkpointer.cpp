#include "checkpointer.h"

#include "snapshot.h"

#include <fcnlab/io/model_file.h>
#include <fcnlab/util/atomic_file.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace fcnlab {
namespace train {
namespace detail {

namespace fs = std::filesystem;

Checkpointer::Checkpointer(
    std::string dir,
    int64_t rank,
    int64_t world_size,
    std::vector<std::string> class_names,
    const models::FcnNet& model,
    const Solver& solver,
    const MixedPrecision& precision,
    const TrainingState& state)
    : dir_(std::move(dir)),
      rank_(rank),
      world_size_(world_size),
      class_names_(std::move(class_names)),
      model_(model),
      solver_(solver),
      precision_(precision),
      state_(state) {}

void Checkpointer::prepare() const {
  if (rank_ != 0) {
    return;
  }
  fs::create_directories(dir_);
  // A run killed while writing (kill -9, a crash) leaves its temporary
  // snapshot or model file behind; hundreds of MB each.
  for (const auto& name : util::remove_stale_temporaries(dir_)) {
    std::cerr << "removed " << (fs::path(dir_) / name).string()
              << ", left unfinished by an interrupted run\n";
  }
}

std::string Checkpointer::write() {
  const fs::path dir = dir_;
  last_ = (dir / ("snapshot_iter_" + std::to_string(state_.iteration) + ".pt"))
              .string();
  last_iteration_ = state_.iteration;
  if (rank_ != 0) {
    return last_;
  }
  fs::create_directories(dir);
  // The position counts the images of the whole job, so that a run with
  // another number of ranks resumes at the same place.
  write_snapshot(
      last_,
      model_,
      solver_,
      {state_.epoch,
       state_.rank_samples_done * world_size_,
       state_.iteration,
       model_->num_classes(),
       state_.history},
      precision_.state());
  io::save_model(model_, (dir / "model.pt").string(), class_names_);
  remove_old_snapshots();
  return last_;
}

std::string Checkpointer::write_unless_current() {
  return last_iteration_ == state_.iteration ? last_ : write();
}

void Checkpointer::resumed_from(const std::string& path) {
  last_ = path;
  last_iteration_ = -1;
}

void Checkpointer::remove_old_snapshots() const {
  std::vector<fs::path> snapshots;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("snapshot_iter_", 0) == 0 &&
        entry.path().extension() == ".pt") {
      snapshots.push_back(entry.path());
    }
  }
  std::sort(
      snapshots.begin(),
      snapshots.end(),
      [](const fs::path& a, const fs::path& b) {
        return fs::last_write_time(a) > fs::last_write_time(b);
      });
  for (size_t i = kSnapshotsKept; i < snapshots.size(); ++i) {
    fs::remove(snapshots[i]);
  }
}

} // namespace detail
} // namespace train
} // namespace fcnlab
