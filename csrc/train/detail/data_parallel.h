#pragma once

#include "gradient_buckets.h"

#include <fcnlab/models/fcn_net.h>
#include <fcnlab/train/distributed.h>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fcnlab {
namespace train {
namespace detail {

/// What the ranks decided with an update's gradients.
struct UpdateVote {
  bool stop = false;                   ///< some rank asked to stop
  std::vector<int64_t> diverged_ranks; ///< ranks whose loss was not finite
};

/// A Trainer's data-parallel side, as DDP's strategy owns it: joining the
/// job, checks that the ranks agree, sums over the ranks, and the gradient
/// average that carries each update's vote (stop, or a rank's non-finite
/// loss) in the same round trip. Outside a job (no job given) every
/// operation is the identity of one process.
class DataParallel {
 public:
  /// Joins `job` when it has more than one rank; CUDA gradients are summed
  /// over `cuda_backend`.
  DataParallel(
      const std::optional<JobEnvironment>& job,
      std::chrono::milliseconds timeout,
      CudaBackend cuda_backend);
  ~DataParallel();

  bool in_job() const {
    return communicator_ != nullptr;
  }
  int64_t rank() const;
  int64_t world_size() const;
  /// "gloo" or "nccl" for tensors on `device`; "" outside a job.
  std::string backend_for(const c10::Device& device) const;

  /// Throws naming the first rank whose `setup` (a description of the data
  /// and options, in words) differs from rank 0's.
  void check_setup(const std::string& setup);
  /// Averages the gradients of `parameters` from now on; with `overlap`,
  /// during the last backward of each update.
  void track_gradients(std::vector<at::Tensor> parameters, bool overlap);
  /// Gives every rank rank 0's parameters and buffers, and checks them.
  void broadcast_parameters(const models::FcnNet& model);
  /// Sums `values` over the ranks.
  std::vector<double> sum(std::vector<double> values, const std::string& what);
  /// Sums `tensor` (on the CPU) over the ranks, in place.
  void sum_in_place(at::Tensor& tensor, const std::string& what);
  /// Whether `wanted` holds on any rank.
  bool any(bool wanted, const std::string& what);

  /// The next backward is the update's last one.
  void expect_last_backward();
  /// Replaces the gradients by their mean over the ranks, and tells every
  /// rank whether one of them wants to stop or diverged.
  UpdateVote average_gradients(bool diverged, bool stop, int64_t iteration);
  /// Gives every rank rank 0's parameters that no solver learns but forward
  /// passes may change (BatchNorm's sums, which each rank updates from its
  /// own images), as Caffe's snapshots hold rank 0's.
  void share_statistics(const models::FcnNet& model);
  /// The end of training: rank 0's statistics everywhere, the parameters
  /// agree and every rank is done.
  void finish(const models::FcnNet& model);

  /// Seconds spent averaging gradients.
  double communication_seconds() const {
    return communication_seconds_;
  }

 private:
  /// Throws naming the first rank whose parameters differ from rank 0's.
  void check_parameters_agree(
      const models::FcnNet& model,
      const std::string& when);

  std::shared_ptr<Communicator> communicator_; ///< null in one process
  std::unique_ptr<GradientBuckets> buckets_;
  bool overlap_ = false;
  double communication_seconds_ = 0;
};

} // namespace detail
} // namespace train
} // namespace fcnlab
