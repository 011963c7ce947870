#pragma once

#include <fcnlab/train/trainer.h>
#ifdef FCNLAB_HAS_SERVE
#include <fcnlab/serve/server.h>
#endif

#include <string>

namespace fcnlab {
namespace tools {

/// trainer.train() with SIGINT (Ctrl-C) and SIGTERM (what schedulers such
/// as SLURM send first) asking it to finish the current update, write a
/// snapshot and return; a second signal exits at once (snapshots are
/// written atomically, so the last one stays intact). Returns train()'s
/// snapshot path.
std::string train_until_interrupted(train::Trainer& trainer);

#ifdef FCNLAB_HAS_SERVE
/// Serves until SIGINT or SIGTERM, then stops within about a second (open
/// event streams included); a second signal exits at once.
void serve_until_interrupted(serve::Server& server);
#endif

/// In a job of several ranks, how many and the time spent averaging
/// gradients; nothing for a single process.
void print_job_summary(const train::Trainer& trainer);

} // namespace tools
} // namespace fcnlab
