#include <fcnlab/train/distributed.h>

#include "detail/heartbeat.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#ifdef USE_C10D_NCCL // defined by CUDA builds of LibTorch
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
// Gloo's own headers are a separate package (Debian's libgloo-dev) that a
// LibTorch install may lack: such a build has everything but jobs.
#if defined(USE_C10D_GLOO) && __has_include(<gloo/algorithm.h>)
#define FCNLAB_HAVE_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#else
#define FCNLAB_HAVE_GLOO 0
#endif

#include <cstdlib>
#include <sstream>

namespace fcnlab {
namespace train {
namespace {

std::optional<std::string> variable(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) {
    return std::nullopt;
  }
  return std::string(value);
}

int64_t number_variable(const char* name, std::optional<int64_t> fallback) {
  const auto text = variable(name);
  if (!text) {
    TORCH_CHECK_VALUE(
        fallback,
        name,
        " is not set, but RANK or WORLD_SIZE is: a distributed job needs "
        "RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT");
    return *fallback;
  }
  char* end = nullptr;
  const long long value = std::strtoll(text->c_str(), &end, 10);
  TORCH_CHECK_VALUE(
      !text->empty() && *end == '\0' && value >= 0,
      name,
      "='",
      *text,
      "' is not a non-negative integer");
  return value;
}

} // namespace

std::optional<JobEnvironment> job_from_environment() {
  if (!variable("RANK") && !variable("WORLD_SIZE")) {
    return std::nullopt;
  }
  JobEnvironment job;
  job.rank = number_variable("RANK", std::nullopt);
  job.world_size = number_variable("WORLD_SIZE", std::nullopt);
  TORCH_CHECK_VALUE(
      job.world_size >= 1 && job.rank < job.world_size,
      "RANK=",
      job.rank,
      " is not below WORLD_SIZE=",
      job.world_size);
  job.local_rank = number_variable("LOCAL_RANK", job.rank);
  const auto address = variable("MASTER_ADDR");
  TORCH_CHECK_VALUE(
      address || job.world_size == 1,
      "MASTER_ADDR is not set, but RANK or WORLD_SIZE is: a distributed job "
      "needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT");
  job.master_address = address.value_or(job.master_address);
  job.master_port = number_variable(
      "MASTER_PORT",
      job.world_size == 1 ? std::optional<int64_t>(job.master_port)
                          : std::nullopt);
  TORCH_CHECK_VALUE(
      job.master_port >= 1 && job.master_port <= 65535,
      "MASTER_PORT=",
      job.master_port,
      " is not a port number");
  job.agent_store = variable("TORCHELASTIC_USE_AGENT_STORE") == "True";
  job.restart_count = variable("TORCHELASTIC_RESTART_COUNT").value_or("0");
  if (const auto interfaces = variable("GLOO_SOCKET_IFNAME")) {
    std::stringstream names(*interfaces);
    for (std::string name; std::getline(names, name, ',');) {
      if (!name.empty()) {
        job.interfaces.push_back(name);
      }
    }
  }
  return job;
}

void check_job(const JobEnvironment& job) {
  TORCH_CHECK_VALUE(
      job.world_size >= 1, "job: world_size ", job.world_size, " is below 1");
  TORCH_CHECK_VALUE(
      job.rank >= 0 && job.rank < job.world_size,
      "job: rank ",
      job.rank,
      " is not in [0, world_size ",
      job.world_size,
      ")");
  TORCH_CHECK_VALUE(
      job.local_rank >= 0, "job: local_rank ", job.local_rank, " is negative");
  TORCH_CHECK_VALUE(
      job.master_port >= 1 && job.master_port <= 65535,
      "job: master_port ",
      job.master_port,
      " is not a port number");
}

bool nccl_available() {
#ifdef USE_C10D_NCCL
  return true;
#else
  return false;
#endif
}

CudaBackend choose_backend(const std::string& name, const c10::Device& device) {
  if (name == "gloo") {
    return CudaBackend::kGloo;
  }
  if (name == "nccl") {
    TORCH_CHECK_VALUE(
        device.is_cuda(),
        "the nccl backend sums CUDA tensors, but training runs on ",
        device.str(),
        "; use gloo (or auto)");
    TORCH_CHECK_VALUE(
        nccl_available(),
        "the nccl backend is not in this build: its LibTorch was built "
        "without NCCL (USE_C10D_NCCL); use gloo (or auto)");
    return CudaBackend::kNccl;
  }
  TORCH_CHECK_VALUE(
      name == "auto",
      "unknown distributed backend '",
      name,
      "' (auto, gloo or nccl)");
  return device.is_cuda() && nccl_available() ? CudaBackend::kNccl
                                              : CudaBackend::kGloo;
}

namespace {

// What Gloo and NCCL have in common: c10d's ProcessGroup in 1.x, Backend
// in 2.x.
#if TORCH_VERSION_MAJOR >= 2
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

} // namespace

struct Communicator::Impl {
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t gathers = 0; // numbers the store keys of all_gather_text
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Collectives> group;      ///< Gloo
  c10::intrusive_ptr<Collectives> cuda_group; ///< NCCL, when chosen
  std::vector<c10::intrusive_ptr<c10d::Work>> started;
  std::unique_ptr<detail::Heartbeat> heartbeat; ///< after joining

  // Gloo for CPU tensors, NCCL (when chosen) for CUDA tensors.
  Collectives& group_for(const at::Tensor& tensor) {
    if (tensor.is_cuda() && cuda_group) {
      return *cuda_group;
    }
    return *group;
  }

  // Runs a collective, turning a failure into a message that says what
  // this rank was doing and what probably happened.
  template <typename Action>
  void run(const std::string& what, Action&& action) {
    try {
      action();
    } catch (const c10::Error& error) {
      fail(what, error.what_without_backtrace());
    } catch (const std::exception& error) {
      fail(what, error.what());
    }
  }

  [[noreturn]] void fail(const std::string& what, const std::string& reason) {
    const std::string silent = heartbeat ? heartbeat->silent_ranks() : "";
    TORCH_CHECK(
        false,
        "rank ",
        rank,
        " of ",
        world_size,
        ": ",
        what,
        " failed; ",
        silent.empty() ? "another rank died, stopped answering or left the job"
                       : silent,
        " (",
        reason,
        ")");
  }
};

Communicator::Communicator(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

Communicator::~Communicator() = default;

std::shared_ptr<Communicator> Communicator::connect(
    const JobEnvironment& job,
    std::chrono::milliseconds timeout,
    CudaBackend cuda_backend) {
  TORCH_CHECK_VALUE(
      cuda_backend != CudaBackend::kNccl || nccl_available(),
      "the nccl backend is not in this build");
  TORCH_CHECK(
      FCNLAB_HAVE_GLOO,
      "this build of fcnlab cannot join a job: LibTorch's Gloo headers "
      "(gloo/algorithm.h) were missing when it was compiled; install them "
      "(Debian: libgloo-dev) and rebuild");
  auto impl = std::make_unique<Impl>();
  impl->rank = job.rank;
  impl->world_size = job.world_size;
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(job.master_port);
  options.numWorkers = static_cast<size_t>(job.world_size);
  options.timeout = timeout;
  impl->run(
      "joining the job at " + job.master_address + ":" +
          std::to_string(job.master_port),
      [&] {
        if (job.agent_store) {
          // torchrun's agent listens on MASTER_PORT already.
          options.isServer = false;
          options.waitWorkers = false;
          impl->store = c10::make_intrusive<c10d::PrefixStore>(
              "/worker/attempt_" + job.restart_count,
              c10::make_intrusive<c10d::TCPStore>(job.master_address, options));
        } else {
          options.isServer = job.rank == 0;
          options.multiTenant = true;
          impl->store =
              c10::make_intrusive<c10d::TCPStore>(job.master_address, options);
        }
#if FCNLAB_HAVE_GLOO
        auto gloo = c10d::ProcessGroupGloo::Options::create(timeout);
        for (const auto& name : job.interfaces) {
          gloo->devices.push_back(
              c10d::ProcessGroupGloo::createDeviceForInterface(name));
        }
        if (gloo->devices.empty()) {
          gloo->devices.push_back(
              c10d::ProcessGroupGloo::createDefaultDevice());
        }
        impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(
            c10::make_intrusive<c10d::PrefixStore>("gloo", impl->store),
            static_cast<int>(job.rank),
            static_cast<int>(job.world_size),
            gloo);
#endif
#ifdef USE_C10D_NCCL
        if (cuda_backend == CudaBackend::kNccl) {
          auto nccl = c10d::ProcessGroupNCCL::Options::create();
          nccl->timeout = timeout;
          impl->cuda_group = c10::make_intrusive<c10d::ProcessGroupNCCL>(
              c10::make_intrusive<c10d::PrefixStore>("nccl", impl->store),
              static_cast<int>(job.rank),
              static_cast<int>(job.world_size),
              nccl);
        }
#endif
        // The heartbeat has its own connection to the store.
        auto beat_options = options;
        beat_options.isServer = false;
        beat_options.waitWorkers = false;
        beat_options.numWorkers = c10::nullopt;
        c10::intrusive_ptr<c10d::Store> beat_store =
            c10::make_intrusive<c10d::TCPStore>(
                job.master_address, beat_options);
        if (job.agent_store) {
          beat_store = c10::make_intrusive<c10d::PrefixStore>(
              "/worker/attempt_" + job.restart_count, beat_store);
        }
        impl->heartbeat = std::make_unique<detail::Heartbeat>(
            beat_store, job.rank, job.world_size);
      });
  return std::shared_ptr<Communicator>(new Communicator(std::move(impl)));
}

int64_t Communicator::rank() const {
  return impl_->rank;
}

int64_t Communicator::world_size() const {
  return impl_->world_size;
}

std::string Communicator::backend_for(const c10::Device& device) const {
  return device.is_cuda() && impl_->cuda_group ? "nccl" : "gloo";
}

void Communicator::all_reduce_sum(
    std::vector<at::Tensor>& tensors,
    const std::string& what) {
  impl_->run(what, [&] {
    // Gloo reduces one tensor list per call; all together, then wait.
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& tensor : tensors) {
      std::vector<at::Tensor> one{tensor};
      works.push_back(impl_->group_for(tensor).allreduce(one));
    }
    for (auto& work : works) {
      work->wait();
    }
  });
}

void Communicator::start_all_reduce_sum(const at::Tensor& tensor) {
  impl_->run("starting a sum over the ranks", [&] {
    std::vector<at::Tensor> one{tensor};
    impl_->started.push_back(impl_->group_for(tensor).allreduce(one));
  });
}

void Communicator::wait_all(const std::string& what) {
  auto started = std::move(impl_->started);
  impl_->started.clear();
  impl_->run(what, [&] {
    for (auto& work : started) {
      work->wait();
    }
  });
}

void Communicator::broadcast(
    std::vector<at::Tensor>& tensors,
    int64_t root,
    const std::string& what) {
  impl_->run(what, [&] {
    c10d::BroadcastOptions options;
    options.rootRank = static_cast<int>(root);
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& tensor : tensors) {
      std::vector<at::Tensor> one{tensor};
      works.push_back(impl_->group_for(tensor).broadcast(one, options));
    }
    for (auto& work : works) {
      work->wait();
    }
  });
}

std::vector<std::string> Communicator::all_gather_text(
    const std::string& text,
    const std::string& what) {
  std::vector<std::string> texts(static_cast<size_t>(impl_->world_size));
  const std::string prefix =
      "fcnlab/gather" + std::to_string(impl_->gathers++) + "/";
  impl_->run(what, [&] {
    impl_->store->set(
        prefix + std::to_string(impl_->rank),
        std::vector<uint8_t>(text.begin(), text.end()));
    for (int64_t r = 0; r < impl_->world_size; ++r) {
      const auto bytes = impl_->store->get(prefix + std::to_string(r));
      texts[r] = std::string(bytes.begin(), bytes.end());
    }
  });
  return texts;
}

void Communicator::barrier(const std::string& what) {
  impl_->run(what, [&] { impl_->group->barrier()->wait(); });
}

} // namespace train
} // namespace fcnlab
