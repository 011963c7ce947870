#pragma once

// The Trainer's own hooks, which Trainer::train() puts first, in this
// order, from its options.

#include "../detail/checkpointer.h"
#include "../detail/data_parallel.h"

#include <fcnlab/data/voc.h>
#include <fcnlab/train/hooks.h>
#include <fcnlab/util/autocast.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fcnlab {
namespace train {
namespace detail {

/// Validates on `data` every `every` epochs and after the last one, each
/// rank on its share, summed over the job: fills the val_* of EpochInfo and
/// adds its time to the epoch's seconds.
std::shared_ptr<TrainerHook> validation_hook(
    std::shared_ptr<data::SegmentationDataset> data,
    int64_t every,
    int64_t epochs,
    Precision precision,
    DataParallel& parallel);

/// metrics.jsonl (every log_every-th update and every epoch),
/// iterations.csv and epochs.csv in `dir`; `fresh`: started anew (not
/// resumed), so earlier logs are emptied first.
std::shared_ptr<TrainerHook> metrics_writer(
    std::string dir,
    int64_t log_every,
    bool fresh);

/// curves.png in `dir` after every epoch, from the Trainer's history.
std::shared_ptr<TrainerHook> curves_writer(
    std::string dir,
    std::vector<std::string> class_names);

/// Progress on stderr: one line rewritten in place on a terminal (twice a
/// second), else a plain line every `seconds`; a line per epoch.
std::shared_ptr<TrainerHook> progress_printer(
    int64_t epochs,
    int64_t total_updates,
    int64_t images_per_update,
    double seconds);

/// Wall-clock seconds since 1970 (the times in run.json and metrics.jsonl).
double unix_seconds();
/// What a run's record names.
struct RunDescription {
  std::string dir;
  std::string network;
  int64_t epochs = 0;
  int64_t total_iterations = 0;
  int64_t images_per_iteration = 1;
  std::vector<std::string> class_names;
};
/// run.json in the run's folder (rank 0): written as "running" when
/// training starts and "finished" or "stopped" when it returns.
std::shared_ptr<TrainerHook> run_record(RunDescription run);
/// Marks the run.json in `dir` "failed" with `error`; nothing when there is
/// none.
void record_run_failure(const std::string& dir, const std::string& error);
/// A snapshot every `every` epochs and after the last one.
std::shared_ptr<TrainerHook> periodic_checkpointer(
    Checkpointer& checkpointer,
    int64_t every,
    int64_t epochs);

} // namespace detail
} // namespace train
} // namespace fcnlab
