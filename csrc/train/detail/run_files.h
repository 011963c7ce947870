#pragma once

#include "training_state.h"

#include <fcnlab/models/fcn_net.h>
#include <fcnlab/train/trainer.h>

namespace fcnlab {
namespace train {
namespace detail {

/// Writes the run's network as `train.prototxt` and its effective solver as
/// `solver.prototxt` (Caffe's SolverParameter: net, the solver after the
/// training length filled it in, max_iter, and snapshot, test_interval and
/// display counted in updates) into `options.output_dir()`, atomically, so
/// that fcnlab and Caffe can read the run's settings back.
void write_run_files(
    const models::FcnNet& model,
    const TrainerOptions& options,
    const TrainingPlan& plan,
    bool validates);

} // namespace detail
} // namespace train
} // namespace fcnlab
