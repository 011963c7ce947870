// Times FcnAlexNet inference (eval mode, no grad, batch 1) and prints JSON:
//   forward_bench HEIGHT WIDTH ITERATIONS THREADS
#include <fcnlab/models/fcn_alexnet.h>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(
        stderr, "usage: %s HEIGHT WIDTH ITERATIONS THREADS\n", argv[0]);
    return 2;
  }
  const int64_t height = std::atoll(argv[1]);
  const int64_t width = std::atoll(argv[2]);
  const int iterations = std::atoi(argv[3]);
  at::set_num_threads(std::atoi(argv[4]));

  torch::manual_seed(0);
  fcnlab::models::FcnAlexNet net;
  net->eval();
  torch::NoGradGuard no_grad;
  const auto image = torch::rand({1, 3, height, width}) * 255;
  for (int i = 0; i < 2; ++i) {
    net->forward(image); // warm-up: allocator, oneDNN primitive caches
  }
  std::vector<double> times;
  for (int i = 0; i < iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    net->forward(image);
    const std::chrono::duration<double, std::milli> elapsed =
        std::chrono::steady_clock::now() - start;
    times.push_back(elapsed.count());
  }
  std::sort(times.begin(), times.end());
  std::printf(
      "{\"median_ms\": %.3f, \"min_ms\": %.3f, \"threads\": %d}\n",
      times[times.size() / 2],
      times.front(),
      at::get_num_threads());
  return 0;
}
