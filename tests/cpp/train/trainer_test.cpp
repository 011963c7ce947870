#include <fcnlab/io/model_file.h>
#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/train/trainer.h>
#include <fcnlab/util/atomic_file.h>

#include "../../../csrc/util/detail/tensor_file.h"
#include "caffe_fixtures.h"
#include "seeded_test.h"
#include "tensor_dataset.h"
#include "voc_fixtures.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <fstream>
#include <numeric>

namespace fcnlab {
namespace train {
namespace {

namespace fs = std::filesystem;

class TrainerTest : public testing::SeededTest {
 protected:
  void SetUp() override {
    SeededTest::SetUp();
    at::set_num_threads(1); // bit-exact results need a fixed reduction order
    for (int i = 0; i < 4; ++i) {
      testing::write_sample(
          path("img"),
          path("lbl"),
          "s" + std::to_string(i),
          40 + 4 * (i % 2),
          56,
          1 + i);
    }
    data_ = std::make_shared<data::VOCSegmentation>(
        path("img"), path("lbl"), data::VocOptions().num_classes(21));
  }

  TrainerOptions options(int64_t epochs) const {
    return TrainerOptions()
        .epochs(epochs)
        .solver(SolverOptions().base_lr(1e-3).lr_policy(LrPolicy::kFixed))
        .output_dir(path("out"))
        .threads(1)
        .workers(2)
        .log_every(1)
        .progress(false);
  }

  static models::FcnAlexNet fresh_model() {
    torch::manual_seed(42);
    return models::FcnAlexNet(models::FcnAlexNetOptions(21));
  }

  std::shared_ptr<data::VOCSegmentation> data_;
};

// A sample whose image holds NaN: the loss becomes NaN.
class PoisonedDataset : public data::SegmentationDataset {
 public:
  data::SegmentationExample get(size_t) override {
    return {
        torch::full({3, 16, 16}, std::nan("")),
        torch::ones({16, 16}, torch::kLong)};
  }
  c10::optional<size_t> size() const override {
    return 2;
  }
  std::string name(size_t index) const override {
    return "poisoned" + std::to_string(index);
  }
};

TEST_F(TrainerTest, SegmentationLossAveragesOverNonIgnoredPixels) {
  const auto scores = torch::randn({1, 3, 2, 2}, torch::requires_grad());
  const auto labels = torch::tensor({0, 2, 255, 1}).view({1, 2, 2});
  const auto log_p = torch::log_softmax(scores, 1);
  const auto expected =
      -(log_p[0][0][0][0] + log_p[0][2][0][1] + log_p[0][1][1][1]) / 3;
  EXPECT_NEAR(
      segmentation_loss(scores, labels).item<double>(),
      expected.item<double>(),
      1e-6);
  const auto none =
      segmentation_loss(scores, torch::full({1, 2, 2}, 255, torch::kLong));
  EXPECT_EQ(none.item<double>(), 0.0);
  none.backward(); // keeps the graph: no error, and nothing to learn
  EXPECT_TRUE(torch::equal(scores.grad(), torch::zeros_like(scores)));
}

TEST_F(TrainerTest, SegmentationLossGradientIsTheMeansOverCountedPixels) {
  const auto scores = torch::randn({2, 4, 3, 5}, torch::requires_grad());
  auto labels = torch::randint(0, 4, {2, 3, 5}, torch::kLong);
  labels.index_put_({0, 1}, 255);
  segmentation_loss(scores, labels).backward();
  // LibTorch's own mean over the pixels that are not ignored.
  const auto reference = scores.detach().clone().requires_grad_();
  torch::nn::functional::cross_entropy(
      reference,
      labels,
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(255))
      .backward();
  EXPECT_TRUE(torch::allclose(scores.grad(), reference.grad(), 1e-5, 1e-7));
}

TEST_F(TrainerTest, LossFallsByMoreThanHalf) {
  Trainer trainer(fresh_model(), data_, nullptr, options(6));
  std::vector<double> losses;
  trainer.on_iteration([&](const IterationInfo& info) {
    losses.push_back(info.loss);
    return true;
  });
  trainer.train();
  ASSERT_EQ(losses.size(), 24u);
  const double first = losses.front();
  const double last = (losses[20] + losses[21] + losses[22] + losses[23]) / 4;
  EXPECT_NEAR(
      first, std::log(21.0), 1e-3); // zero scorer: uniform over 21 classes
  EXPECT_LT(last, 0.5 * first) << "first " << first << ", last " << last;
}

TEST_F(TrainerTest, AShortRunSegmentsWellAboveBackgroundOnly) {
  // Red squares (class 1) at different places on noisy grey images.
  std::vector<data::SegmentationExample> examples;
  for (int i = 0; i < 4; ++i) {
    auto image = 110 + 20 * torch::rand({3, 64, 64});
    auto label = torch::zeros({64, 64}, torch::kLong);
    const int64_t top = 4 + 8 * i, left = 28 - 8 * i;
    image.slice(1, top, top + 28).slice(2, left, left + 28)[2].fill_(240);
    label.slice(0, top, top + 28).slice(1, left, left + 28).fill_(1);
    examples.push_back({image, label});
  }
  auto squares = std::make_shared<testing::TensorDataset>(examples);
  // What painting everything background scores.
  ConfusionMatrix background_only(2);
  for (const auto& example : examples) {
    const auto labels = example.target.unsqueeze(0);
    background_only.update(torch::zeros_like(labels), labels);
  }
  // The demo's recipe: no dropout, a rate falling to 0. Over seeds 40-44
  // it learned 0.66-0.70 here, where dropout 0.5 at a fixed rate left two
  // of the five at background only.
  torch::manual_seed(42);
  models::FcnAlexNet model(models::FcnAlexNetOptions(2).dropout(0));
  auto fast = options(20);
  fast.solver(SolverOptions().base_lr(5e-3).lr_policy(LrPolicy::kPoly));
  Trainer trainer(model, squares, nullptr, fast);
  trainer.train();
  const auto learned = evaluate(model, *squares).confusion.mean_iu();
  EXPECT_GT(learned, background_only.mean_iu() + 0.2)
      << "background only " << background_only.mean_iu();
}

TEST_F(TrainerTest, WritesLogsCurvesModelAndSnapshots) {
  auto names = data::voc_class_names();
  names[4] = "d";
  Trainer trainer(fresh_model(), data_, data_, options(2), names);
  const std::string snapshot = trainer.train();
  EXPECT_EQ(snapshot, path("out/snapshot_iter_8.pt"));
  EXPECT_TRUE(fs::exists(snapshot));
  EXPECT_TRUE(fs::exists(path("out/curves.png")));
  const auto loaded = io::load_model(path("out/model.pt"));
  EXPECT_EQ(loaded.class_names[4], "d");
  std::ifstream epochs(path("out/epochs.csv"));
  std::string line;
  int lines = 0;
  while (std::getline(epochs, line)) {
    ++lines;
  }
  EXPECT_EQ(lines, 3); // header + 2 epochs
  ASSERT_EQ(trainer.history().size(), 2u);
  EXPECT_FALSE(std::isnan(trainer.history()[1].val_mean_iu));
  std::ifstream jsonl(path("out/metrics.jsonl"));
  int epoch_lines = 0;
  while (std::getline(jsonl, line)) {
    epoch_lines += line.find("\"type\":\"epoch\"") != std::string::npos;
  }
  EXPECT_EQ(epoch_lines, 2);
}

TEST_F(TrainerTest, RecordsTheRunAndEachValidationsConfusionMatrix) {
  auto names = data::voc_class_names();
  names[4] = "d";
  Trainer trainer(fresh_model(), data_, data_, options(2), names);
  trainer.train();
  std::ifstream record_file(path("out/run.json"));
  const auto record = nlohmann::json::parse(record_file);
  EXPECT_EQ(record["status"], "finished");
  EXPECT_EQ(record["network"], trainer.model()->spec().name);
  EXPECT_EQ(record["total_iterations"], 8);
  EXPECT_EQ(record["epochs"], 2);
  EXPECT_EQ(record["class_names"][4], "d");
  EXPECT_EQ(record["pid"], static_cast<int64_t>(::getpid()));
  EXPECT_GE(record["finished"].get<double>(), record["started"].get<double>());
  EXPECT_EQ(record["options"]["base_lr"], 1e-3);

  // Each validated epoch's matrix counts every pixel that is not ignored.
  int64_t counted = 0;
  for (size_t i = 0; i < 4; ++i) {
    const auto labels = data_->get(i).target;
    counted += (labels != data::kIgnoreLabel).sum().item<int64_t>();
  }
  std::ifstream jsonl(path("out/metrics.jsonl"));
  std::string text;
  int epochs = 0;
  double last_time = 0;
  while (std::getline(jsonl, text)) {
    const auto line = nlohmann::json::parse(text);
    ASSERT_TRUE(line.contains("time")) << text;
    EXPECT_GE(line["time"].get<double>(), last_time);
    last_time = line["time"].get<double>();
    if (line["type"] == "epoch") {
      ++epochs;
      const auto counts = line["val_confusion"].get<std::vector<int64_t>>();
      ASSERT_EQ(counts.size(), 21u * 21u);
      EXPECT_EQ(
          std::accumulate(counts.begin(), counts.end(), int64_t(0)), counted);
    }
  }
  EXPECT_EQ(epochs, 2);
  // The matrix survives a snapshot's history.
  EXPECT_EQ(trainer.history()[1].val_confusion.size(), 21u * 21u);
}

TEST_F(TrainerTest, AFailedRunIsRecordedWithItsError) {
  struct Failing : TrainerHook {
    bool after_step(Trainer&, const IterationInfo& info) override {
      TORCH_CHECK(info.iteration < 2, "the disk is full");
      return true;
    }
  };
  Trainer trainer(fresh_model(), data_, nullptr, options(2));
  trainer.add_hook(std::make_shared<Failing>());
  EXPECT_THROW(trainer.train(), c10::Error);
  std::ifstream record_file(path("out/run.json"));
  const auto record = nlohmann::json::parse(record_file);
  EXPECT_EQ(record["status"], "failed");
  EXPECT_NE(
      record["error"].get<std::string>().find("the disk is full"),
      std::string::npos);
}

TEST_F(TrainerTest, ASnapshotsWeightsLoadIntoTheNetwork) {
  auto model = fresh_model();
  Trainer trainer(model, data_, nullptr, options(2));
  trainer.on_iteration(
      [](const IterationInfo& info) { return info.iteration < 3; });
  const std::string snapshot = trainer.train();
  auto other = fresh_model(); // the weights before training
  load_snapshot_weights(snapshot, other);
  for (const auto& pair : model->named_parameters()) {
    EXPECT_TRUE(
        torch::equal(pair.value(), other->named_parameters()[pair.key()]))
        << pair.key();
  }
  models::FcnNet fewer_classes =
      models::FcnAlexNet(models::FcnAlexNetOptions(5));
  try {
    load_snapshot_weights(snapshot, fewer_classes);
    FAIL() << "a 21-class snapshot went into a 5-class network";
  } catch (const c10::Error& error) {
    EXPECT_NE(std::string(error.what()).find(snapshot), std::string::npos);
  }
  models::FcnNet as_net = fresh_model();
  EXPECT_THROW(load_snapshot_weights(path("out/model.pt"), as_net), c10::Error);
}

TEST_F(TrainerTest, ResumeIsBitIdenticalToAnUninterruptedRun) {
  auto whole_model = fresh_model();
  Trainer whole(
      whole_model, data_, nullptr, options(2).output_dir(path("whole")));
  whole.train();

  auto first_model = fresh_model();
  Trainer first(
      first_model, data_, nullptr, options(2).output_dir(path("parts")));
  first.on_iteration(
      [](const IterationInfo& info) { return info.iteration < 3; });
  const std::string snapshot = first.train();
  EXPECT_EQ(first.iteration(), 3);

  auto second_model = fresh_model(); // different weights until resumed
  Trainer second(
      second_model, data_, nullptr, options(2).output_dir(path("parts")));
  second.resume(snapshot);
  second.train();
  EXPECT_EQ(second.iteration(), 8);
  for (const auto& pair : whole_model->named_parameters()) {
    EXPECT_TRUE(torch::equal(
        pair.value(), second_model->named_parameters()[pair.key()]))
        << pair.key();
  }
}

TEST_F(TrainerTest, ResumeWithAugmentationIsBitIdentical) {
  const auto augmented = [&](const std::string& dir) {
    auto o = options(2).output_dir(path(dir));
    o.augment(data::AugmentOptions()
                  .flip(true)
                  .crop_height(36)
                  .crop_width(48)
                  .rotation(5)
                  .hue(5)
                  .noise(2));
    return o;
  };
  auto whole_model = fresh_model();
  Trainer whole(whole_model, data_, nullptr, augmented("whole"));
  whole.train();

  auto first_model = fresh_model();
  Trainer first(first_model, data_, nullptr, augmented("parts"));
  first.on_iteration(
      [](const IterationInfo& info) { return info.iteration < 3; });
  const std::string snapshot = first.train();
  auto second_model = fresh_model();
  Trainer second(second_model, data_, nullptr, augmented("parts"));
  second.resume(snapshot);
  second.train();
  for (const auto& pair : whole_model->named_parameters()) {
    EXPECT_TRUE(torch::equal(
        pair.value(), second_model->named_parameters()[pair.key()]))
        << pair.key();
  }
  // And the augmentation acted: without it the weights differ.
  auto plain_model = fresh_model();
  Trainer(plain_model, data_, nullptr, options(2).output_dir(path("plain")))
      .train();
  EXPECT_FALSE(torch::equal(
      plain_model->named_parameters()["fc6.weight"],
      whole_model->named_parameters()["fc6.weight"]));
}

TEST_F(TrainerTest, AnInterruptedSnapshotWriteKeepsThePreviousSnapshot) {
  Trainer trainer(fresh_model(), data_, nullptr, options(1));
  const std::string snapshot = trainer.train();
  {
    util::AtomicFile file(snapshot);
    std::ofstream(file.temp_path()) << "half a snapshot";
    // The writer dies before commit().
  }
  Trainer again(fresh_model(), data_, nullptr, options(2));
  again.resume(snapshot);
  EXPECT_EQ(again.iteration(), 4);
}

// A snapshot of fcnlab 0.1 (a LibTorch zip archive: nested "model" and
// "solver" archives, "state" JSON, "rng") resumes after an upgrade.
TEST_F(TrainerTest, ZipSnapshotsResumeAfterAnUpgrade) {
  Trainer first(fresh_model(), data_, nullptr, options(1));
  first.train();
  torch::manual_seed(7);
  auto model = fresh_model();
  for (auto& parameter : model->parameters()) {
    parameter.data().normal_();
  }
  torch::serialize::OutputArchive archive, model_archive, solver_archive;
  model->save(model_archive);
  for (const auto& pair : model->named_parameters()) {
    if (pair.value().requires_grad()) { // the solver's parameters
      solver_archive.write(
          "history." + pair.key(), torch::full_like(pair.value(), 0.5));
    }
  }
  archive.write("model", model_archive);
  archive.write("solver", solver_archive);
  archive.write(
      "state",
      c10::IValue(std::string(
          R"({"format": "fcnlab-snapshot", "version": 1, "epoch": 1, )"
          R"("position": 0, "iteration": 4, "num_classes": 21, "history": []})")));
  archive.write("rng", at::detail::getDefaultCPUGenerator().get_state());
  archive.save_to(path("old_snapshot.pt"));

  Trainer second(fresh_model(), data_, nullptr, options(2));
  EXPECT_NE(
      testing::error_message_of([&] {
        second.resume(path("old_snapshot.pt"));
      }).find("is in the zip format of fcnlab 0.1"),
      std::string::npos);
  EXPECT_EQ(io::upgrade_legacy_file(path("old_snapshot.pt")), "snapshot");
  auto resumed_model = fresh_model();
  Trainer third(resumed_model, data_, nullptr, options(2));
  third.resume(path("old_snapshot.pt"));
  EXPECT_EQ(third.iteration(), 4);
  for (const auto& pair : model->named_parameters()) {
    EXPECT_TRUE(torch::equal(
        pair.value(), resumed_model->named_parameters()[pair.key()]))
        << pair.key();
  }
}

TEST_F(TrainerTest, NanLossStopsWithAClearMessage) {
  Trainer trainer(
      fresh_model(), std::make_shared<PoisonedDataset>(), nullptr, options(1));
  const auto message = testing::error_message_of([&] { trainer.train(); });
  EXPECT_NE(
      message.find("training diverged: the loss is nan at iteration 1"),
      std::string::npos)
      << message;
  EXPECT_NE(
      message.find("the last good snapshot is (none yet)"), std::string::npos);
  EXPECT_FALSE(fs::exists(path("out/model.pt")));
}

TEST_F(TrainerTest, NanLossLeavesTheWeightsAndNoGradient) {
  auto model = fresh_model();
  std::vector<torch::Tensor> before;
  for (const auto& parameter : model->parameters()) {
    before.push_back(parameter.detach().clone());
  }
  Trainer trainer(
      model, std::make_shared<PoisonedDataset>(), nullptr, options(1));
  EXPECT_THROW(trainer.train(), c10::Error);
  const auto after = model->parameters();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_TRUE(torch::equal(after[i], before[i])) << "parameter " << i;
    const auto& grad = after[i].grad();
    EXPECT_TRUE(!grad.defined() || grad.eq(0).all().item<bool>())
        << "parameter " << i << " keeps a gradient";
  }
}

TEST_F(TrainerTest, RequestStopWritesASnapshot) {
  Trainer trainer(fresh_model(), data_, nullptr, options(3));
  trainer.on_iteration([&](const IterationInfo& info) {
    if (info.iteration == 2) {
      trainer.request_stop(); // as the SIGINT handler does
    }
    return true;
  });
  EXPECT_EQ(trainer.train(), path("out/snapshot_iter_2.pt"));
}

// Records what the loop shows a hook, in order.
class RecordingHook : public TrainerHook {
 public:
  explicit RecordingHook(
      std::vector<std::string>& events,
      bool stop_at_3 = false)
      : events_(events), stop_at_3_(stop_at_3) {}

  void before_train(Trainer& trainer) override {
    events_.push_back("before " + std::to_string(trainer.iteration()));
  }
  bool after_step(Trainer& trainer, const IterationInfo& info) override {
    EXPECT_EQ(info.iteration, trainer.iteration());
    events_.push_back("step " + std::to_string(info.iteration));
    return !(stop_at_3_ && info.iteration == 3);
  }
  bool after_epoch(Trainer& trainer, EpochInfo& info) override {
    // Validation, a built-in hook, has run; the info is the history's last.
    EXPECT_FALSE(std::isnan(info.val_mean_iu));
    EXPECT_EQ(&info, &trainer.history().back());
    events_.push_back("epoch " + std::to_string(info.epoch));
    return true;
  }
  void after_train(Trainer& trainer, bool stopped) override {
    events_.push_back(
        std::string(stopped ? "stopped " : "done ") +
        std::to_string(trainer.iteration()));
  }

 private:
  std::vector<std::string>& events_;
  bool stop_at_3_;
};

TEST_F(TrainerTest, AddedHooksSeeEveryPointOfTheLoopInOrder) {
  std::vector<std::string> events;
  Trainer trainer(fresh_model(), data_, data_, options(2));
  trainer.add_hook(std::make_shared<RecordingHook>(events));
  trainer.on_epoch([&](const EpochInfo& info) {
    events.push_back("callback " + std::to_string(info.epoch));
    return true;
  });
  trainer.train();
  const std::vector<std::string> expected{
      "before 0",
      "step 1",
      "step 2",
      "step 3",
      "step 4",
      "epoch 1",
      "callback 1",
      "step 5",
      "step 6",
      "step 7",
      "step 8",
      "epoch 2",
      "callback 2",
      "done 8"};
  EXPECT_EQ(events, expected);
}

TEST_F(TrainerTest, AHookReturningFalseStopsAfterThatUpdateWithASnapshot) {
  std::vector<std::string> events;
  Trainer trainer(fresh_model(), data_, data_, options(2));
  trainer.add_hook(std::make_shared<RecordingHook>(events, /*stop_at_3=*/true));
  EXPECT_EQ(trainer.train(), path("out/snapshot_iter_3.pt"));
  EXPECT_TRUE(fs::exists(path("out/snapshot_iter_3.pt")));
  const std::vector<std::string> expected{
      "before 0", "step 1", "step 2", "step 3", "stopped 3"};
  EXPECT_EQ(events, expected);
}

TEST_F(TrainerTest, OptionsCarryTheScheduleOfTheTrainingLength) {
  // 4 images, iter_size 1, 3 epochs: 12 updates; DIGITS' step every 33%.
  Trainer trainer(
      fresh_model(),
      data_,
      nullptr,
      options(3).solver(SolverOptions().lr_policy(LrPolicy::kStep)));
  EXPECT_EQ(trainer.options().solver().step_size(), 4); // round(12 * 0.33)
  EXPECT_EQ(trainer.options().solver().max_iter(), 12);
  EXPECT_THROW(trainer.add_hook(nullptr), c10::ValueError);
}

TEST_F(TrainerTest, ResumeRejectsOtherFiles) {
  Trainer trainer(fresh_model(), data_, nullptr, options(1));
  io::save_model(fresh_model(), path("model.pt"));
  EXPECT_NE(
      testing::error_message_of([&] {
        trainer.resume(path("model.pt"));
      }).find("is not an fcnlab training snapshot"),
      std::string::npos);
  EXPECT_NE(
      testing::error_message_of([&] {
        trainer.resume(path("none.pt"));
      }).find("snapshot: cannot open"),
      std::string::npos);

  util::detail::write_tensor_file(
      path("damaged.pt"),
      {{"format", "fcnlab-snapshot"}, {"epoch", "two"}},
      {});
  const auto message =
      testing::error_message_of([&] { trainer.resume(path("damaged.pt")); });
  EXPECT_NE(
      message.find("snapshot: " + path("damaged.pt") + " has a damaged state"),
      std::string::npos)
      << message;
}

} // namespace
} // namespace train
} // namespace fcnlab
