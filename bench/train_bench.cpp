// Times training steps (forward, loss, backward, Caffe SGD update) of
// FCN-Alexnet, or FCN-8s with "fcn8s", batch 1, alternating HEIGHTxWIDTH and
// WIDTHxHEIGHT images, and prints JSON with the rate and the resident
// memory after 10, 100, 1000 ... steps and at the peak:
//   train_bench HEIGHT WIDTH STEPS THREADS [plain] [channels_last] [fcn8s]
//               [cuda] [bf16 | fp16] [adam] [per-term]
// "plain" runs the plain LibTorch layers (trace()) instead of forward();
// "channels_last" feeds the images in NHWC memory order; "cuda" trains on
// the GPU (each step timed until the GPU has finished); "bf16"/"fp16" run
// the forward pass under autocast, fp16 with the trainer's loss scaling;
// "adam" updates with Adam instead of SGD, "per-term" with one ATen
// operation per term instead of the one-pass update.
#include <fcnlab/train/solver.h>
#include <fcnlab/train/trainer.h>
#include <fcnlab/util/memory.h>

#include "../csrc/train/detail/grad_scaler.h"
#include "args.h"
#include "networks.h"
#include "timing.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  fcnlab::reuse_freed_memory(); // as the CLI does
  const auto args = fcnlab::bench::parse_model_args(
      argc,
      argv,
      "STEPS",
      {"plain",
       "channels_last",
       "fcn8s",
       "cuda",
       "bf16",
       "fp16",
       "adam",
       "per-term"});
  const auto device = fcnlab::bench::device_of(args);
  const auto precision = fcnlab::bench::precision_of(args);
  const bool plain = args.has("plain");
  const auto memory_format = args.has("channels_last")
      ? at::MemoryFormat::ChannelsLast
      : at::MemoryFormat::Contiguous;
  const int64_t height = args.height;
  const int64_t width = args.width;
  const int steps = args.count;
  at::set_num_threads(args.threads);
  auto net = fcnlab::bench::benchmark_network(
      args.has("fcn8s") ? "fcn8s" : "fcn_alexnet");
  net->train();
  net->to(device);
  fcnlab::train::Solver solver(
      fcnlab::train::trainable_parameters(net),
      fcnlab::train::SolverOptions()
          .type(
              args.has("adam") ? fcnlab::train::SolverType::kAdam
                               : fcnlab::train::SolverType::kSgd)
          .fused(!args.has("per-term"))
          .lr_policy(fcnlab::train::LrPolicy::kFixed)
          // FCN's rate for its summed loss.
          .base_lr(net->spec().loss.normalize ? 1e-4 : 1e-10));
  std::unique_ptr<fcnlab::train::detail::GradScaler> scaler;
  if (precision == fcnlab::Precision::kFloat16) {
    scaler = std::make_unique<fcnlab::train::detail::GradScaler>(device);
  }
  const std::vector<torch::Tensor> images = {
      (torch::rand({1, 3, height, width}, device) * 255)
          .contiguous(memory_format),
      (torch::rand({1, 3, width, height}, device) * 255)
          .contiguous(memory_format)};
  const auto labels_on = torch::TensorOptions(torch::kLong).device(device);
  const std::vector<torch::Tensor> labels = {
      torch::randint(0, 21, {1, height, width}, labels_on),
      torch::randint(0, 21, {1, width, height}, labels_on)};

  std::string rss_after; // "step": MiB pairs
  double seconds = 0;
  int64_t next_reading = 10;
  for (int i = 0; i < steps + 2; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto& image = images[i % 2];
    torch::Tensor loss;
    {
      const fcnlab::Autocast autocast(device.type(), precision);
      const auto scores =
          plain ? net->trace(image).back().second : net->forward(image);
      loss = fcnlab::train::segmentation_loss(
          scores, labels[i % 2], net->spec().loss);
    }
    if (scaler) {
      scaler->scale(loss).backward();
      std::vector<torch::Tensor> grads;
      for (const auto& p : net->parameters()) {
        grads.push_back(p.grad());
      }
      if (scaler->unscale(grads)) {
        solver.step(i);
      } else {
        solver.zero_grad(); // an overflow: skipped, as the trainer does
      }
      scaler->update();
    } else {
      loss.backward();
      solver.step(i);
    }
    fcnlab::bench::finish(device);
    const std::chrono::duration<double> elapsed =
        std::chrono::steady_clock::now() - start;
    if (i >= 2) { // the first two warm up allocator and kernels
      seconds += elapsed.count();
    }
    if (i + 1 == next_reading) {
      rss_after += (rss_after.empty() ? "\"" : ", \"") + std::to_string(i + 1) +
          "\": " + std::to_string(fcnlab::bench::status_mib("VmRSS"));
      next_reading *= 10;
    }
  }
  std::printf(
      "{\"images_per_second\": %.4f, \"seconds_per_step\": %.4f, "
      "\"peak_rss_mib\": %.1f, \"rss_mib_after_steps\": {%s}}\n",
      steps / seconds,
      seconds / steps,
      fcnlab::bench::status_mib("VmHWM"),
      rss_after.c_str());
  return 0;
}
