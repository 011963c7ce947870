#pragma once

#include <fcnlab/train/trainer.h>

#include <string>

namespace fcnlab {
namespace tools {

/// trainer.train() with SIGINT (Ctrl-C) and SIGTERM (what schedulers such
/// as SLURM send first) asking it to finish the current update, write a
/// snapshot and return; a second signal exits at once (snapshots are
/// written atomically, so the last one stays intact). Returns train()'s
/// snapshot path.
std::string train_until_interrupted(train::Trainer& trainer);

/// In a job of several ranks, how many and the time spent averaging
/// gradients; nothing for a single process.
void print_job_summary(const train::Trainer& trainer);

} // namespace tools
} // namespace fcnlab
