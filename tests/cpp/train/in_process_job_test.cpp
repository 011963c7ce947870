// Two ranks of a job as two threads of this process (TrainerOptions::job),
// so that a test can give one rank data the other does not see.
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
      options().distributed(false).solver(SolverOptions()
                                              .base_lr(1e-3)
                                              .lr_policy(LrPolicy::kFixed)
                                              .iter_size(2)));
  resumed.resume(path("out/snapshot_iter_0.pt"));
  EXPECT_EQ(resumed.iteration(), 0);
  resumed.train();
  EXPECT_EQ(resumed.iteration(), 2);
}

} // namespace
} // namespace train
} // namespace fcnlab
