#pragma once

#include <fcnlab/data/augment.h>
#include <fcnlab/data/voc.h>

#include <torch/arg.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace fcnlab {
namespace data {

/// Options of the prefetching loader.
struct LoaderOptions {
  /// Threads decoding samples ahead of the consumer.
  TORCH_ARG(int, workers) = 2;
  /// Decoded samples kept ready at most (bounds memory).
  TORCH_ARG(int, prefetch) = 8;
  /// Reshuffle every epoch from seed + epoch (deterministic).
  TORCH_ARG(bool, shuffle) = true;
  TORCH_ARG(uint64_t, seed) = 0;
  /// Put up to this many consecutive samples of equal size into one batch;
  /// 1 gives DIGITS' batch-1 training at native size.
  TORCH_ARG(int64_t, max_batch) = 1;
  /// When > 1, samples are batched within consecutive groups of this many
  /// epoch positions (one update of iter_size images): the samples of a
  /// group with equal sizes form batches of up to max_batch, in the order
  /// their size first appears, so no batch spans two updates. 1: batches
  /// are runs of consecutive equal-size samples.
  TORCH_ARG(int64_t, group) = 1;
  /// Data-parallel sharding: this loader gives the positions p of the
  /// epoch's order with p % shard_count == shard_rank, the order padded by
  /// repeating its head so that every shard has ceil(N / shard_count)
  /// samples (torch's DistributedSampler rule, strided).
  TORCH_ARG(int64_t, shard_rank) = 0;
  TORCH_ARG(int64_t, shard_count) = 1;
  /// Random transforms of each training sample, drawn from the seed, the
  /// epoch and the sample's index (the same after a resume).
  TORCH_ARG(AugmentOptions, augment) = {};
  /// Batches in page-locked memory, so that copies to a CUDA device can run
  /// asynchronously (needs a LibTorch with CUDA).
  TORCH_ARG(bool, pin_memory) = false;
};

/// A batch: images N x 3 x H x W float, labels N x H x W int64.
struct Batch {
  at::Tensor images;
  at::Tensor labels;
  std::vector<size_t> indices; ///< dataset indices, in batch order
};

/// Loads a SegmentationDataset on worker threads while the consumer trains.
/// The order of samples depends only on the seed and the epoch, never on
/// thread timing. Destroying the loader (or starting another epoch) stops
/// the workers cleanly, also mid-epoch.
class Loader {
 public:
  Loader(
      std::shared_ptr<SegmentationDataset> dataset,
      LoaderOptions options = {});
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /// Begins `epoch` (its sample order) at position `skip` (to resume an
  /// epoch part-way) and starts the workers.
  void start_epoch(int64_t epoch, size_t skip = 0);
  /// The next batch of the epoch, or nullopt after its last one. Rethrows a
  /// worker's exception (e.g. a corrupt file) at the sample it concerns.
  std::optional<Batch> next();

  /// The sample order of `epoch` (this shard's).
  std::vector<size_t> order(int64_t epoch) const;
  size_t size() const {
    return size_;
  }

 private:
  struct Slot {
    size_t index = 0;
    SegmentationExample example;
    std::exception_ptr error;
  };
  void stop();
  void work();
  /// Blocks until the sample at `position` is loaded, and takes it.
  Slot take(size_t position);
  /// The next batch of consecutive equal-size samples.
  std::optional<Batch> next_run();
  /// Loads the group holding next_take_ and splits it into batches by size.
  void load_group();
  Batch make_batch(std::vector<Slot> slots) const;

  std::shared_ptr<SegmentationDataset> dataset_;
  LoaderOptions options_;
  size_t size_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<size_t> order_;
  int64_t epoch_ = 0;
  size_t next_claim_ = 0; ///< next position a worker takes
  size_t next_take_ = 0;  ///< next position the consumer takes
  std::map<size_t, Slot> ready_;
  std::optional<Slot> held_;  ///< taken but not yet batched
  std::deque<Batch> grouped_; ///< batches of the current group not yet given
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

} // namespace data
} // namespace fcnlab
