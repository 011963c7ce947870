#include "detail/run_files.h"

#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/train/solver_file.h>
#include <fcnlab/util/atomic_file.h>

#include <algorithm>
#include <filesystem>

namespace fcnlab {
namespace train {
namespace detail {

void write_run_files(
    const models::FcnNet& model,
    const TrainerOptions& options,
    const TrainingPlan& plan,
    bool validates) {
  const std::filesystem::path dir = options.output_dir();
  SolverRun run;
  run.net = "train.prototxt";
  run.max_iter = plan.total_updates();
  // An interval longer than the run means "at the end".
  const auto updates_of = [&](int64_t epochs) {
    return std::min(
        std::min(epochs, plan.epochs) * plan.updates_per_epoch,
        plan.total_updates());
  };
  run.snapshot = updates_of(options.snapshot_every());
  run.test_interval = validates ? updates_of(options.val_every()) : 0;
  run.display = options.log_every();
  run.random_seed = static_cast<int64_t>(options.seed());
  util::write_file_atomically(
      (dir / run.net).string(), caffe::net_prototxt(model->spec()));
  util::write_file_atomically(
      (dir / "solver.prototxt").string(),
      solver_prototxt(options.solver(), run));
}

} // namespace detail
} // namespace train
} // namespace fcnlab
