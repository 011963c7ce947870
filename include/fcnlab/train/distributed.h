#pragma once

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

/// One rank's view of a data-parallel job, as torchrun, SLURM (through
/// scripts/slurm-train.sh) or a person sets it in the environment.
struct JobEnvironment {
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t local_rank = 0; ///< picks the GPU on a machine (LOCAL_RANK)
  std::string master_address = "127.0.0.1";
  int64_t master_port = 29500;
  /// torchrun's agent already hosts the store on MASTER_PORT
  /// (TORCHELASTIC_USE_AGENT_STORE=True): every rank is a client then.
  bool agent_store = false;
  std::string restart_count = "0"; ///< TORCHELASTIC_RESTART_COUNT
  /// GLOO_SOCKET_IFNAME, split at commas; empty: the host name's address.
  std::vector<std::string> interfaces;
};

/// The job described by RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (and
/// LOCAL_RANK, TORCHELASTIC_USE_AGENT_STORE, TORCHELASTIC_RESTART_COUNT,
/// GLOO_SOCKET_IFNAME), or nullopt when neither RANK nor WORLD_SIZE is set.
/// Throws c10::ValueError naming the variable when one is missing or not a
/// number, or the rank is outside [0, WORLD_SIZE).
std::optional<JobEnvironment> job_from_environment();

/// Checks a job given in code (TrainerOptions::job) as job_from_environment()
/// checks the environment's: world_size >= 1, 0 <= rank < world_size,
/// local_rank >= 0 and a port number. Throws c10::ValueError naming the
/// field.
void check_job(const JobEnvironment& job);

/// Which c10d backend sums CUDA tensors. CPU tensors, texts and barriers
/// always go through Gloo.
enum class CudaBackend { kGloo, kNccl };

/// Whether this build's LibTorch has ProcessGroupNCCL (CUDA builds).
bool nccl_available();

/// The backend that `name` ("auto", "gloo" or "nccl") means for tensors on
/// `device`: "auto" is NCCL for a CUDA device when the build has it, else
/// Gloo. Throws c10::ValueError naming the value when it is unknown, or
/// "nccl" is asked for on a CPU device or in a build without NCCL.
CudaBackend choose_backend(const std::string& name, const c10::Device& device);

/// Collectives among the ranks of a job over c10d: a TCPStore rendezvous
/// (agent-store aware), ProcessGroupGloo, and ProcessGroupNCCL for CUDA
/// tensors when `cuda_backend` is kNccl. Every call must be made by all
/// ranks in the same order. A rank that died or stopped answering makes the
/// others' calls throw a c10::Error within `timeout`, naming this rank and
/// what it was doing.
class Communicator {
 public:
  static std::shared_ptr<Communicator> connect(
      const JobEnvironment& job,
      std::chrono::milliseconds timeout = std::chrono::minutes(5),
      CudaBackend cuda_backend = CudaBackend::kGloo);
  ~Communicator();

  int64_t rank() const;
  int64_t world_size() const;
  /// "gloo" or "nccl": what sums tensors on `device`.
  std::string backend_for(const c10::Device& device) const;

  /// Sums `tensors` over the ranks, in place. `what` names the
  /// operation in errors ("the gradients of iteration 12").
  void all_reduce_sum(
      std::vector<at::Tensor>& tensors,
      const std::string& what);
  /// Starts summing `tensor` over the ranks in place and returns at once;
  /// wait_all() finishes every started sum. Ranks must start them in the
  /// same order.
  void start_all_reduce_sum(const at::Tensor& tensor);
  void wait_all(const std::string& what);
  /// Copies rank `root`'s `tensors` into every rank's, in place.
  void broadcast(
      std::vector<at::Tensor>& tensors,
      int64_t root,
      const std::string& what);
  /// Every rank's `text`, by rank.
  std::vector<std::string> all_gather_text(
      const std::string& text,
      const std::string& what);
  void barrier(const std::string& what);

 private:
  struct Impl;
  explicit Communicator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace train
} // namespace fcnlab
