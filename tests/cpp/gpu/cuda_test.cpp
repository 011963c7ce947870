// GPU tests: skipped where no CUDA GPU is visible (CI, CPU builds).
#include <fcnlab/infer/segment.h>
#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/train/distributed.h>
#include <fcnlab/train/trainer.h>
#include <fcnlab/util/autocast.h>
#include <fcnlab/util/device.h>

#include "../../../csrc/train/detail/grad_scaler.h"
#include "free_port.h"
#include "seeded_test.h"
#include "voc_fixtures.h"

#include <ATen/Context.h>
#include <torch/torch.h>

#include <limits>

namespace fcnlab {
namespace {

class CudaTest : public testing::SeededTest {
 protected:
  void SetUp() override {
    if (!cuda_available()) {
      GTEST_SKIP() << "no CUDA GPU";
    }
    SeededTest::SetUp();
    // Exact float32 on the GPU, to compare with the CPU.
    at::globalContext().setAllowTF32CuBLAS(false);
    at::globalContext().setAllowTF32CuDNN(false);
  }

  std::shared_ptr<data::VOCSegmentation> tiny_voc() {
    for (int i = 0; i < 4; ++i) {
      testing::write_sample(
          path("img"), path("lbl"), "s" + std::to_string(i), 64, 80, 1 + i);
    }
    return std::make_shared<data::VOCSegmentation>(
        path("img"), path("lbl"), data::VocOptions().num_classes(21));
  }

  // Networks without dropout: the CPU and CUDA generators draw differently.
  static models::FcnNet network(const std::string& name) {
    torch::manual_seed(7);
    auto net = name == "fcn_alexnet"
        ? models::FcnNet(models::FcnNetOptions(models::fcn_alexnet_spec(
              models::FcnAlexNetOptions(21).dropout(0.0))))
        : models::FcnNet(models::FcnNetOptions(models::builtin_net(name, 21)));
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) {
      if (p.requires_grad()) {
        p.normal_(0, 0.01);
      }
    }
    return net;
  }

  static double relative_error(const at::Tensor& got, const at::Tensor& want) {
    return (got.to(at::kCPU, at::kFloat) - want).abs().max().item<double>() /
        std::max(want.abs().max().item<double>(), 1e-12);
  }
};

TEST_F(CudaTest, ForwardMatchesTheCpu) {
  for (const std::string name : {"fcn_alexnet", "fcn8s"}) {
    auto cpu = network(name);
    cpu->eval();
    auto gpu = std::dynamic_pointer_cast<models::FcnNetImpl>(
        cpu->clone(torch::Device("cuda")));
    const auto image = torch::rand({1, 3, 120, 160}) * 255;
    torch::NoGradGuard no_grad;
    const auto want = cpu->forward(image);
    const auto got = gpu->forward(image.cuda());
    EXPECT_TRUE(got.is_cuda());
    EXPECT_LT(relative_error(got, want), 1e-3) << name;
  }
}

TEST_F(CudaTest, SegmentRunsOnTheModelsDevice) {
  auto cpu = network("fcn_alexnet");
  auto gpu = std::dynamic_pointer_cast<models::FcnNetImpl>(
      cpu->clone(torch::Device("cuda")));
  const auto image = torch::randint(0, 256, {90, 120, 3}, torch::kByte);
  const auto want = infer::segment(cpu, image);
  const auto got = infer::segment(models::FcnNet(gpu), image);
  EXPECT_TRUE(got.classes.is_cpu());
  EXPECT_LT(relative_error(got.probabilities, want.probabilities), 1e-3);
}

TEST_F(CudaTest, TrainingStepsMatchTheCpuAndMixedPrecisionStaysClose) {
  const auto data = tiny_voc();
  const auto options = [&](const std::string& device, const std::string& amp) {
    return train::TrainerOptions()
        .epochs(1)
        .solver(train::SolverOptions().base_lr(1e-3).lr_policy(
            train::LrPolicy::kFixed))
        .output_dir(path(device + amp))
        .workers(1)
        .progress(false)
        .device(device)
        .precision(amp);
  };
  auto cpu = network("fcn_alexnet");
  train::Trainer(cpu, data, data, options("cpu", "fp32")).train();
  for (const std::string amp : {"fp32", "bf16", "fp16"}) {
    auto gpu = network("fcn_alexnet");
    train::Trainer trainer(gpu, data, data, options("cuda", amp));
    trainer.train();
    EXPECT_TRUE(std::isfinite(trainer.history().back().val_loss)) << amp;
    const double tolerance = amp == "fp32" ? 1e-3 : 5e-2;
    for (const auto& item : cpu->named_parameters()) {
      const auto& p = gpu->named_parameters()[item.key()];
      EXPECT_TRUE(p.is_cuda());
      EXPECT_EQ(p.scalar_type(), at::kFloat);
      EXPECT_LT(relative_error(p, item.value()), tolerance)
          << amp << " " << item.key();
    }
  }
}

TEST_F(CudaTest, FusedLossScalingKernelsFollowTheSameRules) {
  train::detail::GradScaler cpu(c10::kCPU, 8.0, 2.0, 0.5, 2);
  train::detail::GradScaler gpu(torch::Device("cuda"), 8.0, 2.0, 0.5, 2);
  const float inf = std::numeric_limits<float>::infinity();
  for (const auto& grad :
       {torch::ones({3}),
        torch::ones({3}),
        torch::tensor({1.0f, inf, 2.0f}),
        torch::ones({3})}) {
    auto on_cpu = grad.clone();
    auto on_gpu = grad.cuda();
    EXPECT_EQ(gpu.unscale({on_gpu}), cpu.unscale({on_cpu}));
    cpu.update();
    gpu.update();
    EXPECT_EQ(gpu.current_scale(), cpu.current_scale());
    EXPECT_TRUE(
        torch::allclose(on_gpu.cpu(), on_cpu, 0, 0, /*equal_nan=*/true));
  }
}

// One rank is all NCCL allows on one GPU; two ranks are the CPU tests'.
TEST_F(CudaTest, TheCommunicatorSumsCudaTensorsOverNccl) {
  if (!train::nccl_available()) {
    GTEST_SKIP() << "LibTorch without NCCL";
  }
  train::JobEnvironment job;
  job.master_port = testing::free_port();
  const auto communicator = train::Communicator::connect(
      job, std::chrono::seconds(60), train::CudaBackend::kNccl);
  EXPECT_EQ(communicator->backend_for(c10::Device("cuda:0")), "nccl");
  EXPECT_EQ(communicator->backend_for(c10::Device("cpu")), "gloo");
  auto on_gpu = torch::arange(4, torch::kFloat).cuda();
  auto on_cpu = torch::arange(3, torch::kFloat);
  std::vector<at::Tensor> both{on_gpu, on_cpu};
  communicator->all_reduce_sum(both, "a sum in a test");
  communicator->start_all_reduce_sum(on_gpu);
  communicator->wait_all("a started sum in a test");
  EXPECT_TRUE(torch::equal(on_gpu.cpu(), torch::arange(4, torch::kFloat)));
  EXPECT_TRUE(torch::equal(on_cpu, torch::arange(3, torch::kFloat)));
}

} // namespace
} // namespace fcnlab
