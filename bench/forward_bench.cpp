// Times FcnAlexNet inference (eval mode, no grad, batch 1) and prints JSON:
//   forward_bench HEIGHT WIDTH ITERATIONS THREADS [plain] [channels_last]
// "plain" times trace(), which runs the plain LibTorch layers, instead of
// forward() with its packed weights and separable upscore; "channels_last"
// feeds the image (and so the activations) in NHWC memory order.
#include <fcnlab/models/fcn_alexnet.h>

#include "timing.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc < 5 || argc > 7) {
    std::fprintf(
        stderr,
        "usage: %s HEIGHT WIDTH ITERATIONS THREADS [plain] [channels_last]\n",
        argv[0]);
    return 2;
  }
  const bool plain = fcnlab::bench::has_flag(argc, argv, 5, "plain");
  const bool channels_last =
      fcnlab::bench::has_flag(argc, argv, 5, "channels_last");
  const int64_t height = std::atoll(argv[1]);
  const int64_t width = std::atoll(argv[2]);
  at::set_num_threads(std::atoi(argv[4]));

  torch::manual_seed(0);
  fcnlab::models::FcnAlexNet net;
  net->eval();
  torch::NoGradGuard no_grad;
  auto image = torch::rand({1, 3, height, width}) * 255;
  if (channels_last) {
    image = image.contiguous(at::MemoryFormat::ChannelsLast);
  }
  const auto times = fcnlab::bench::time_calls(std::atoi(argv[3]), [&] {
    plain ? net->trace(image).back().second : net->forward(image);
  });
  std::printf(
      "{\"median_ms\": %.3f, \"min_ms\": %.3f, \"threads\": %d}\n",
      fcnlab::bench::median(times),
      times.front(),
      at::get_num_threads());
  return 0;
}
