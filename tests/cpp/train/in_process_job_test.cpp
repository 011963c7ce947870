// Two ranks of a job as two threads of this process (TrainerOptions::job),
// so that a test can give one rank data the other does not see.
#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/train/trainer.h>

#include "caffe_fixtures.h"
#include "free_port.h"
#include "seeded_test.h"
#include "tensor_dataset.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <array>
#include <limits>
#include <thread>

namespace fcnlab {
namespace train {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class InProcessJobTest : public testing::SeededTest {
 protected:
  // Four 24x28 images whose pixels are `value` where it is given.
  static std::shared_ptr<testing::TensorDataset> images(
      std::optional<float> value) {
    torch::manual_seed(3);
    std::vector<data::SegmentationExample> examples;
    for (int i = 0; i < 4; ++i) {
      auto image = torch::rand({3, 24, 28}) * 255;
      if (value) {
        image.fill_(*value);
      }
      examples.push_back({image, torch::randint(0, 3, {24, 28}, torch::kLong)});
    }
    return std::make_shared<testing::TensorDataset>(std::move(examples));
  }

  static models::FcnAlexNet fresh_model() {
    torch::manual_seed(42);
    return models::FcnAlexNet(models::FcnAlexNetOptions(3).dropout(0));
  }

  TrainerOptions options() const {
    return TrainerOptions()
        .epochs(1)
        .solver(SolverOptions().base_lr(1e-3).lr_policy(LrPolicy::kFixed))
        .output_dir(path("out"))
        .threads(1)
        .workers(1)
        .progress(false)
        .distributed_timeout_seconds(60);
  }
};

TEST_F(InProcessJobTest, ANanOnOneRankStopsEveryRankBeforeTheUpdate) {
  at::set_num_threads(1);
  const auto clean = images(std::nullopt);
  const auto poisoned = images(std::numeric_limits<float>::quiet_NaN());
  std::array<models::FcnAlexNet, 2> models{fresh_model(), fresh_model()};
  std::vector<at::Tensor> before;
  for (const auto& parameter : models[0]->parameters()) {
    before.push_back(parameter.detach().clone());
  }

  const int port = testing::free_port();
  std::array<std::string, 2> errors;
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < 2; ++rank) {
    ranks.emplace_back([&, rank] {
      JobEnvironment job;
      job.rank = rank;
      job.world_size = 2;
      job.master_port = port;
      errors[rank] = testing::error_message_of([&] {
        Trainer trainer(
            models[rank],
            rank == 0 ? clean : poisoned,
            nullptr,
            options().job(job));
        trainer.train();
      });
    });
  }
  for (auto& thread : ranks) {
    thread.join();
  }

  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_TRUE(contains(
        errors[rank],
        "the loss is not finite on rank 1 at iteration 1 (epoch 1"))
        << "rank " << rank << ": " << errors[rank];
    EXPECT_TRUE(contains(
        errors[rank],
        "the weights before that update are in " +
            path("out/snapshot_iter_0.pt")))
        << errors[rank];
  }
  // No rank applied the update.
  for (const auto& model : models) {
    const auto parameters = model->parameters();
    for (size_t i = 0; i < parameters.size(); ++i) {
      EXPECT_TRUE(torch::equal(parameters[i], before[i])) << "parameter " << i;
    }
  }

  // The snapshot starts the failed update again: resumed by one process
  // with iter_size 2 on clean data, the epoch's 4 images are 2 updates.
  auto resumed_model = fresh_model();
  Trainer resumed(
      resumed_model,
      clean,
      nullptr,
      options().join_job(false).solver(SolverOptions()
                                           .base_lr(1e-3)
                                           .lr_policy(LrPolicy::kFixed)
                                           .iter_size(2)));
  resumed.resume(path("out/snapshot_iter_0.pt"));
  EXPECT_EQ(resumed.iteration(), 0);
  resumed.train();
  EXPECT_EQ(resumed.iteration(), 2);
}

// The data-parallel side registers an autograd hook on every parameter; a
// Trainer must take them away when it goes, or the next backward through
// the model (a second Trainer, fine-tuning) calls into freed memory. The
// sanitizer build (scripts/sanitize.sh) reports that as a use after free.
TEST_F(InProcessJobTest, TwoTrainersInARowOnOneModelInAJob) {
  at::set_num_threads(1);
  const auto data = images(std::nullopt);
  std::array<models::FcnAlexNet, 2> models{fresh_model(), fresh_model()};
  std::array<int, 2> ports{testing::free_port(), testing::free_port()};
  std::array<std::string, 2> errors;
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < 2; ++rank) {
    ranks.emplace_back([&, rank] {
      errors[rank] = testing::error_message_of([&] {
        for (int run = 0; run < 2; ++run) {
          JobEnvironment job;
          job.rank = rank;
          job.world_size = 2;
          job.master_port = ports[run];
          Trainer trainer(
              models[rank],
              data,
              nullptr,
              options().output_dir(path("run" + std::to_string(run))).job(job));
          trainer.train();
          EXPECT_EQ(trainer.iteration(), 2) << "run " << run;
        }
      });
    });
  }
  for (auto& thread : ranks) {
    thread.join();
  }
  EXPECT_EQ(errors[0], "(no exception)");
  EXPECT_EQ(errors[1], "(no exception)");
  const auto first = models[0]->parameters();
  const auto second = models[1]->parameters();
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_TRUE(torch::equal(first[i], second[i])) << "parameter " << i;
  }

  // A backward outside any Trainer gives the gradient of its own loss
  // alone, on either model.
  auto& model = models[0];
  model->zero_grad();
  const auto example = data->get(0);
  const auto scores = model->forward(example.data.unsqueeze(0));
  segmentation_loss(scores, example.target.unsqueeze(0)).backward();
  const auto bias = model->named_parameters()["score_fr.bias"];
  const auto expected = torch::autograd::grad(
      {segmentation_loss(
          model->forward(example.data.unsqueeze(0)),
          example.target.unsqueeze(0))},
      {bias})[0];
  EXPECT_TRUE(torch::allclose(bias.grad(), expected));
}

TEST_F(InProcessJobTest, BatchNormStatisticsAreRankZerosOnEveryRank) {
  // Each rank updates BatchNorm's sums from its own images; the job ends
  // with rank 0's everywhere.
  at::set_num_threads(1);
  const auto data = images(std::nullopt);
  const auto spec = caffe::parse_prototxt(
      R"(name: "bn"
input: "data"
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 3 pad: 1
    weight_filler { type: "msra" } } }
layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" }
layer { name: "scale1" type: "Scale" bottom: "conv1" top: "conv1"
  scale_param { bias_term: true } }
layer { name: "score" type: "Convolution" bottom: "conv1" top: "score"
  convolution_param { num_output: 3 kernel_size: 1 weight_filler { type: "msra" } } }
)",
      "bn.prototxt");
  std::array<models::FcnNet, 2> models{nullptr, nullptr};
  for (auto& model : models) {
    torch::manual_seed(42);
    model = models::FcnNet(spec);
  }
  const int port = testing::free_port();
  std::array<std::string, 2> errors;
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < 2; ++rank) {
    ranks.emplace_back([&, rank] {
      errors[rank] = testing::error_message_of([&] {
        JobEnvironment job;
        job.rank = rank;
        job.world_size = 2;
        job.master_port = port;
        Trainer(models[rank], data, nullptr, options().job(job)).train();
      });
    });
  }
  for (auto& thread : ranks) {
    thread.join();
  }
  EXPECT_EQ(errors[0], "(no exception)");
  EXPECT_EQ(errors[1], "(no exception)");
  auto first = models[0]->named_parameters();
  auto second = models[1]->named_parameters();
  // Two images per rank: factor = 0.999 * (0.999 * 0 + 1) + 1.
  EXPECT_FLOAT_EQ(first["bn1.factor"].item<float>(), 1.999f);
  for (const char* name : {"bn1.mean", "bn1.variance", "scale1.weight"}) {
    EXPECT_TRUE(torch::equal(first[name], second[name])) << name;
  }
}

} // namespace
} // namespace train
} // namespace fcnlab
