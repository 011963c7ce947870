#pragma once

#include <fcnlab/train/hooks.h>

#include <cstdint>
#include <vector>

namespace fcnlab {
namespace train {
namespace detail {

/// Where a Trainer stands: what a snapshot keeps and a resume restores.
struct TrainingState {
  int64_t epoch = 0;             ///< epochs completed
  int64_t rank_samples_done = 0; ///< samples of this epoch this rank did
  int64_t iteration = 0;         ///< updates done
  std::vector<EpochInfo> history;
};

/// How much training there is, worked out once from the data, the job and
/// the options.
struct TrainingPlan {
  int64_t epochs = 1;
  int64_t iter_size = 1;
  int64_t world_size = 1;
  /// Each rank's share of an epoch: its shard, padded to equal counts.
  int64_t samples_per_rank = 0;
  int64_t updates_per_epoch = 0;
  /// Caffe's max_iter when the run counts updates; 0 when it counts epochs.
  int64_t max_iter = 0;

  TrainingPlan(
      int64_t samples,
      int64_t world_size,
      int64_t iter_size,
      int64_t epochs,
      int64_t max_iter = 0)
      : epochs(epochs),
        iter_size(iter_size),
        world_size(world_size),
        samples_per_rank((samples + world_size - 1) / world_size),
        updates_per_epoch((samples_per_rank + iter_size - 1) / iter_size),
        max_iter(max_iter) {
    if (max_iter > 0) {
      this->epochs = (max_iter + updates_per_epoch - 1) / updates_per_epoch;
    }
  }

  int64_t total_updates() const {
    return max_iter > 0 ? max_iter : updates_per_epoch * epochs;
  }
  /// Images of the whole job in one update.
  int64_t images_per_update() const {
    return iter_size * world_size;
  }
};

} // namespace detail
} // namespace train
} // namespace fcnlab
