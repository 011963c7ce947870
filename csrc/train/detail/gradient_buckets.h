#pragma once

#include <fcnlab/train/distributed.h>

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace fcnlab {
namespace train {
namespace detail {

/// DDP's default bucket size: 25 MiB.
constexpr int64_t kBucketBytes = int64_t{25} << 20;

/// Gradients averaged over the ranks of a job, in flat buckets of at most
/// about `bucket_bytes` (a tensor is never split) filled in reverse
/// parameter order, the order in which backward produces them: one
/// all-reduce per bucket instead of one per tensor. Parameters that do not
/// require gradients are left out.
///
/// With overlap, arm() before the last backward of an update: as backward
/// produces a parameter's gradient, a hook adds it to what earlier images
/// accumulated and copies the sum into its bucket; a full bucket starts its
/// all-reduce at once (buckets in index order on every rank, as DDP does),
/// while backward goes on with the layers below. Without arm(), average()
/// copies and reduces everything after backward.
class GradientBuckets {
 public:
  GradientBuckets(
      std::vector<at::Tensor> parameters,
      std::shared_ptr<Communicator> communicator,
      int64_t bucket_bytes = kBucketBytes);
  ~GradientBuckets();

  /// The next backward is the update's last: reduce during it.
  void arm();

  /// Replaces every gradient by its mean over the ranks. `flags` (a small
  /// float tensor on the CPU) is summed over the ranks too, so that a stop
  /// or a NaN on one rank reaches all of them.
  void average(at::Tensor& flags, const std::string& what);

  /// Parameter indices of each bucket.
  const std::vector<std::vector<size_t>>& buckets() const {
    return buckets_;
  }

 private:
  /// Buckets, their parameters' offsets, and one hook per parameter.
  void lay_out(int64_t bucket_bytes);
  void allocate();
  /// The hook of parameter i: its final gradient is `grad` plus what
  /// earlier backward passes of the update accumulated.
  void on_gradient(size_t i, const at::Tensor& grad);
  /// Copies parameter i's accumulated gradient (zero if none) into its slot.
  void fill_slot(size_t i);
  /// Starts the ready buckets that are next in index order.
  void start_ready_buckets();

  std::vector<at::Tensor> parameters_;
  std::shared_ptr<Communicator> communicator_;
  std::vector<std::vector<size_t>> buckets_;
  std::vector<size_t> bucket_of_;
  std::vector<int64_t> offset_of_;
  std::vector<at::Tensor> flat_;
  std::vector<unsigned> hooks_; ///< register_hook()'s handles, by parameter

  std::mutex mutex_; ///< hooks may run on autograd's threads
  bool armed_ = false;
  std::vector<bool> filled_;
  std::vector<size_t> missing_; ///< per bucket: slots not yet filled
  size_t next_start_ = 0;       ///< the next bucket to start
};

} // namespace detail
} // namespace train
} // namespace fcnlab
