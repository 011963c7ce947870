#include "run_flags.h"

#include "commands.h"

#include <ATen/Parallel.h>

namespace fcnlab {
namespace tools {

void RunFlags::add_to(CLI::App* command, const std::string& seeded) {
  seed_option = command->add_option("--seed", seed, "seed of " + seeded);
  command->add_option("--workers", workers, "data loading threads")
      ->check(positive_number());
  command
      ->add_option(
          "--progress-seconds",
          progress_seconds,
          "seconds between progress lines when stderr is not a terminal")
      ->check(non_negative_number());
  command
      ->add_option(
          "--dist-timeout",
          timeout_seconds,
          "in a distributed job, seconds a rank waits for the others before "
          "it fails (a rank that died or hangs)")
      ->capture_default_str()
      ->check(positive_number());
  command
      ->add_option(
          "--dist-backend",
          backend,
          "in a distributed job on CUDA, what sums the gradients: auto "
          "(NCCL when this build has it), gloo or nccl")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "gloo", "nccl"}));
  command->add_flag(
      "--no-overlap",
      no_overlap,
      "in a distributed job, average gradients after backward rather than "
      "bucket by bucket during it");
}

void RunFlags::apply_to(train::TrainerOptions& options) const {
  options.seed(seed)
      .threads(at::get_num_threads())
      .workers(workers)
      .progress_seconds(progress_seconds)
      .distributed_timeout_seconds(timeout_seconds)
      .distributed_backend(backend)
      .overlap_communication(!no_overlap);
}

} // namespace tools
} // namespace fcnlab
