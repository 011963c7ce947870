#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/train/solver_file.h>
#include <fcnlab/train/trainer.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"
#include "tensor_dataset.h"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>

namespace fcnlab {
namespace train {
namespace {

using SolverFileTest = testing::SeededTest;

// What DIGITS writes for a Caffe job (caffe_train.py: the legacy enum, the
// net beside it, counts in iterations).
const char* kDigitsSolver = R"(test_iter: 3
test_interval: 12
base_lr: 0.0001
display: 2
max_iter: 36
lr_policy: "step"
gamma: 0.1
momentum: 0.9
weight_decay: 1e-06
stepsize: 12
snapshot: 12
snapshot_prefix: "snapshot"
solver_mode: GPU
random_seed: 7
net: "train_val.prototxt"
solver_type: SGD
)";

// FCN's voc-fcn8s/solver.prototxt.
const char* kFcnSolver = R"(train_net: "train.prototxt"
test_net: "val.prototxt"
test_iter: 736
# make test net, but don't invoke it from the solver itself
test_interval: 999999999
display: 20
average_loss: 20
lr_policy: "fixed"
# lr for unnormalized softmax
base_lr: 1e-14
# high momentum
momentum: 0.99
# no gradient accumulation
iter_size: 1
max_iter: 100000
weight_decay: 0.0005
snapshot: 4000
snapshot_prefix: "snapshot/train"
test_initialization: false
)";

std::string message_of(const std::string& text) {
  return testing::error_message_of(
      [&] { parse_solver_file(text, "jobs/solver.prototxt"); });
}

TEST_F(SolverFileTest, ReadsDigitsSolver) {
  const auto file = parse_solver_file(kDigitsSolver, "job/solver.prototxt");
  EXPECT_EQ(file.solver.type(), SolverType::kSgd);
  EXPECT_FLOAT_EQ(file.solver.base_lr(), 1e-4f);
  EXPECT_EQ(file.solver.lr_policy(), LrPolicy::kStep);
  EXPECT_FLOAT_EQ(file.solver.gamma(), 0.1f);
  EXPECT_EQ(file.solver.step_size(), 12);
  EXPECT_FLOAT_EQ(file.solver.momentum(), 0.9f);
  EXPECT_FLOAT_EQ(file.solver.weight_decay(), 1e-6f);
  EXPECT_EQ(file.solver.max_iter(), 36);
  // Caffe's defaults where DIGITS writes nothing.
  EXPECT_FLOAT_EQ(file.solver.delta(), 1e-8f);
  EXPECT_FLOAT_EQ(file.solver.momentum2(), 0.999f);
  EXPECT_EQ(file.solver.iter_size(), 1);
  EXPECT_EQ(file.net, "job/train_val.prototxt");
  EXPECT_EQ(file.max_iter, 36);
  EXPECT_EQ(file.snapshot, 12);
  EXPECT_EQ(file.test_interval, 12);
  EXPECT_EQ(file.display, 2);
  EXPECT_EQ(file.random_seed, 7);
  EXPECT_EQ(
      file.ignored,
      (std::vector<std::string>{
          "test_iter", "snapshot_prefix", "solver_mode"}));
  EXPECT_TRUE(file.has("solver_type"));
  EXPECT_FALSE(file.has("type"));
}

TEST_F(SolverFileTest, ReadsFcnSolver) {
  const auto file = parse_solver_file(kFcnSolver, "voc-fcn8s/solver.prototxt");
  EXPECT_EQ(file.solver.type(), SolverType::kSgd); // Caffe's default type
  EXPECT_FLOAT_EQ(file.solver.base_lr(), 1e-14f);
  EXPECT_EQ(file.solver.lr_policy(), LrPolicy::kFixed);
  EXPECT_FLOAT_EQ(file.solver.momentum(), 0.99f);
  EXPECT_FLOAT_EQ(file.solver.weight_decay(), 5e-4f);
  EXPECT_EQ(file.net, "voc-fcn8s/train.prototxt");
  EXPECT_FALSE(file.random_seed); // -1: Caffe seeds from the clock
  EXPECT_EQ(
      file.ignored,
      (std::vector<std::string>{
          "test_net",
          "test_iter",
          "snapshot_prefix",
          "test_initialization",
          "average_loss"}));
}

TEST_F(SolverFileTest, EveryLegacyEnumAndTypeName) {
  const std::vector<std::pair<std::string, SolverType>> cases{
      {"solver_type: NESTEROV", SolverType::kNesterov},
      {"solver_type: ADAGRAD momentum: 0", SolverType::kAdaGrad},
      {"solver_type: RMSPROP", SolverType::kRmsProp},
      {"solver_type: ADADELTA momentum: 0.95", SolverType::kAdaDelta},
      {"solver_type: ADAM momentum: 0.9", SolverType::kAdam},
      {"type: 'Nesterov'", SolverType::kNesterov},
      {"type: 'AdaGrad'", SolverType::kAdaGrad},
      {"type: 'RMSProp'", SolverType::kRmsProp},
      {"type: 'AdaDelta'", SolverType::kAdaDelta},
      {"type: 'Adam'", SolverType::kAdam},
  };
  for (const auto& [field, type] : cases) {
    const auto file = parse_solver_file(
        "base_lr: 0.01 lr_policy: 'fixed' " + field, "s.prototxt");
    EXPECT_EQ(file.solver.type(), type) << field;
  }
}

TEST_F(SolverFileTest, ProblemsAreNamedWithTheFile) {
  const std::string ok = "base_lr: 0.01 lr_policy: 'fixed' ";
  const std::string file = "jobs/solver.prototxt: ";
  EXPECT_EQ(
      message_of(ok + "type: 'SGD' solver_type: SGD"),
      file +
          "sets both type and the legacy solver_type; Caffe refuses that "
          "too");
  EXPECT_EQ(message_of("lr_policy: 'fixed'"), file + "sets no base_lr");
  EXPECT_EQ(
      message_of("base_lr: 0.01"),
      file +
          "sets no lr_policy (fixed, step, multistep, poly, inv, exp or "
          "sigmoid)");
  EXPECT_EQ(
      message_of("base_lr: 0.01 lr_policy: 'step' gamma: 0.1"),
      file + "lr_policy step needs stepsize");
  EXPECT_EQ(
      message_of("base_lr: 0.01 lr_policy: 'inv' gamma: 0.1"),
      file + "lr_policy inv needs power");
  EXPECT_EQ(
      message_of("base_lr: 0.01 lr_policy: 'exp'"),
      file + "lr_policy exp needs gamma");
  EXPECT_EQ(
      message_of(ok + "type: 'Momentum'"),
      file +
          "solver must be sgd, nesterov, adagrad, rmsprop, adadelta or "
          "adam, got Momentum");
  EXPECT_EQ(
      message_of("base_lr: 0.01 lr_policy: 'cosine'"),
      file +
          "lr policy must be fixed, step, multistep, poly, inv, exp or "
          "sigmoid, got cosine");
  EXPECT_EQ(
      message_of(ok + "solver_type: ADAGRAD momentum: 0.9"),
      file + "adagrad takes no momentum (Caffe requires 0), got 0.9");
  EXPECT_EQ(
      message_of(ok + "net_param { name: 'inline' }"),
      file +
          "holds its net inline (net_param); fcnlab reads the net from a "
          "file named by net or train_net");
  EXPECT_EQ(
      message_of(ok + "net: 'a.prototxt' train_net: 'b.prototxt'"),
      file + "names both net and train_net; Caffe takes one");
  EXPECT_EQ(
      message_of(ok + "weights: 'a.caffemodel' weights: 'b.caffemodel'"),
      file + "names 2 weights files; fcnlab starts from one (--weights)");
  const auto syntax = message_of(ok + "\nbase_lrr: 0.1");
  EXPECT_NE(
      syntax.find("jobs/solver.prototxt:2:9: syntax error: Message type "
                  "\"caffe.SolverParameter\" has no field named "
                  "\"base_lrr\""),
      std::string::npos)
      << syntax;
  EXPECT_NE(
      testing::error_message_of([&] {
        read_solver_file(path("missing.prototxt"));
      }).find(path("missing.prototxt")),
      std::string::npos);
}

TEST_F(SolverFileTest, WrittenSolverReadsBackToTheSameSolver) {
  const auto options = SolverOptions()
                           .type(SolverType::kAdam)
                           .base_lr(0.002)
                           .momentum(0.85)
                           .momentum2(0.995)
                           .delta(1e-7)
                           .weight_decay(1e-3)
                           .regularization(Regularization::kL1)
                           .clip_gradients(5)
                           .lr_policy(LrPolicy::kMultiStep)
                           .gamma(0.5)
                           .step_values({10, 20})
                           .iter_size(3)
                           .max_iter(30);
  SolverRun run;
  run.max_iter = 30;
  run.snapshot = 10;
  run.test_interval = 5;
  run.display = 2;
  run.random_seed = 11;
  const std::string file = path("run/solver.prototxt");
  std::filesystem::create_directories(path("run"));
  std::ofstream(file) << solver_prototxt(options, run);
  const auto back = read_solver_file(file);
  EXPECT_EQ(back.solver.type(), SolverType::kAdam);
  EXPECT_FLOAT_EQ(back.solver.base_lr(), 0.002f);
  EXPECT_FLOAT_EQ(back.solver.momentum(), 0.85f);
  EXPECT_FLOAT_EQ(back.solver.momentum2(), 0.995f);
  EXPECT_FLOAT_EQ(back.solver.delta(), 1e-7f);
  EXPECT_FLOAT_EQ(back.solver.weight_decay(), 1e-3f);
  EXPECT_EQ(back.solver.regularization(), Regularization::kL1);
  EXPECT_FLOAT_EQ(back.solver.clip_gradients(), 5.0f);
  EXPECT_EQ(back.solver.lr_policy(), LrPolicy::kMultiStep);
  EXPECT_FLOAT_EQ(back.solver.gamma(), 0.5f);
  EXPECT_EQ(back.solver.step_values(), (std::vector<int64_t>{10, 20}));
  EXPECT_EQ(back.solver.iter_size(), 3);
  EXPECT_EQ(back.net, path("run/train.prototxt"));
  EXPECT_EQ(back.max_iter, 30);
  EXPECT_EQ(back.snapshot, 10);
  EXPECT_EQ(back.test_interval, 5);
  EXPECT_EQ(back.display, 2);
  EXPECT_EQ(back.random_seed, 11);
  EXPECT_TRUE(back.ignored.empty());
}

TEST_F(SolverFileTest, RunSettingsBecomeEpochs) {
  auto file = parse_solver_file(kDigitsSolver, "solver.prototxt");
  file.solver.iter_size(2);
  std::string note;
  // 10 images at iter_size 2: 5 updates per epoch; 12 updates round to 2.
  const auto options = with_solver_file(TrainerOptions(), file, 10, &note);
  EXPECT_EQ(options.max_iter(), 36);
  EXPECT_EQ(options.snapshot_every(), 2);
  EXPECT_EQ(options.val_every(), 2);
  EXPECT_EQ(options.log_every(), 2);
  EXPECT_EQ(options.seed(), 7u);
  EXPECT_EQ(options.solver().iter_size(), 2);
  EXPECT_EQ(
      note,
      "snapshot 12 updates -> every 2 epochs, test_interval 12 updates -> "
      "every 2 epochs (5 updates per epoch)");
  file.snapshot = 0;      // Caffe: no periodic snapshots
  file.test_interval = 2; // rounds to at least one epoch
  const auto end_only = with_solver_file(TrainerOptions(), file, 10, &note);
  EXPECT_GT(end_only.snapshot_every(), int64_t{1} << 30);
  EXPECT_EQ(end_only.val_every(), 1);
}

TEST_F(SolverFileTest, MaxIterCutsTheLastEpochAndTheRunRecordsItsFiles) {
  std::vector<data::SegmentationExample> examples;
  for (int i = 0; i < 3; ++i) {
    examples.push_back(
        {torch::rand({3, 12, 16}) * 255,
         torch::randint(0, 3, {12, 16}, torch::kLong)});
  }
  auto data = std::make_shared<testing::TensorDataset>(examples);
  models::FcnNet model(caffe::parse_prototxt(
      R"(input: "data"
         layer { name: "score" type: "Convolution" bottom: "data"
           top: "score" convolution_param { num_output: 3 kernel_size: 1
           weight_filler { type: "gaussian" std: 0.001 } } })",
      "tiny.prototxt"));
  const std::string out = path("out");
  Trainer trainer(
      model,
      data,
      nullptr,
      TrainerOptions()
          .max_iter(5) // 3 updates per epoch: two epochs, the second cut
          .snapshot_every(int64_t{1} << 40) // at the end only
          .solver(SolverOptions().base_lr(1e-6).lr_policy(LrPolicy::kFixed))
          .output_dir(out)
          .workers(1)
          .log_every(1)
          .progress(false));
  trainer.train();
  EXPECT_EQ(trainer.iteration(), 5);
  EXPECT_EQ(trainer.history().size(), 2u);
  EXPECT_EQ(trainer.history().back().iteration, 5);

  const auto written = read_solver_file(out + "/solver.prototxt");
  EXPECT_EQ(written.max_iter, 5);
  EXPECT_EQ(written.snapshot, 5);      // at the end: max_iter
  EXPECT_EQ(written.test_interval, 0); // no validation data
  EXPECT_EQ(written.solver.lr_policy(), LrPolicy::kFixed);
  EXPECT_FLOAT_EQ(written.solver.base_lr(), 1e-6f);
  ASSERT_EQ(written.net, out + "/train.prototxt");
  EXPECT_EQ(
      caffe::net_prototxt(caffe::read_prototxt(written.net)),
      caffe::net_prototxt(model->spec()));
}

} // namespace
} // namespace train
} // namespace fcnlab
