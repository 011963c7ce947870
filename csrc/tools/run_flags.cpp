#include "run_flags.h"

#include "commands.h"

namespace fcnlab {
namespace tools {

void RunFlags::add_to(CLI::App* command, const std::string& seeded) {
  command->add_option("--seed", seed, "seed of " + seeded);
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
  command->add_flag(
      "--no-overlap",
      no_overlap,
      "in a distributed job, average gradients after backward rather than "
      "bucket by bucket during it");
}

} // namespace tools
} // namespace fcnlab
