// Times FcnAlexNet training steps (forward, loss, backward, Caffe SGD
// update), batch 1, alternating HEIGHTxWIDTH and WIDTHxHEIGHT images, and
// prints JSON:  train_bench HEIGHT WIDTH STEPS THREADS
#include <fcnlab/train/solver.h>
#include <fcnlab/train/trainer.h>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s HEIGHT WIDTH STEPS THREADS\n", argv[0]);
    return 2;
  }
  const int64_t height = std::atoll(argv[1]);
  const int64_t width = std::atoll(argv[2]);
  const int steps = std::atoi(argv[3]);
  at::set_num_threads(std::atoi(argv[4]));
  torch::manual_seed(0);
  fcnlab::models::FcnAlexNet net;
  net->train();
  fcnlab::train::SgdSolver solver(
      fcnlab::train::fcn_alexnet_param_specs(net),
      fcnlab::train::SolverOptions().lr_policy(
          fcnlab::train::LrPolicy::kFixed));
  const std::vector<torch::Tensor> images = {
      torch::rand({1, 3, height, width}) * 255,
      torch::rand({1, 3, width, height}) * 255};
  const std::vector<torch::Tensor> labels = {
      torch::randint(0, 21, {1, height, width}),
      torch::randint(0, 21, {1, width, height})};
  std::vector<double> times;
  for (int i = 0; i < steps + 2; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto scores = net->forward(images[i % 2]);
    fcnlab::train::segmentation_loss(scores, labels[i % 2]).backward();
    solver.step(i);
    const std::chrono::duration<double> elapsed =
        std::chrono::steady_clock::now() - start;
    if (i >= 2) { // the first two warm up allocator and kernels
      times.push_back(elapsed.count());
    }
  }
  double total = 0;
  for (const double t : times) {
    total += t;
  }
  std::printf(
      "{\"images_per_second\": %.4f, \"seconds_per_step\": %.4f}\n",
      times.size() / total,
      total / times.size());
  return 0;
}
