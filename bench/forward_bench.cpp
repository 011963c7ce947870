// Times inference (eval mode, no grad, batch 1) of FCN-Alexnet, or FCN-8s
// with "fcn8s", and prints JSON:
//   forward_bench HEIGHT WIDTH ITERATIONS THREADS [plain] [channels_last]
//                 [fcn8s] [cuda] [bf16 | fp16] [direct]
// "plain" times trace(), which runs the plain LibTorch layers, instead of
// forward() with its packed weights and separable upsampling;
// "channels_last" feeds the image (and so the activations) in NHWC order;
// "cuda" runs on the GPU (each pass timed until the GPU has finished),
// "bf16"/"fp16" under autocast; "direct" runs float32's 3x3 convolutions by
// the direct algorithm instead of Winograd's.

#include "args.h"
#include "networks.h"
#include "timing.h"

#include <fcnlab/util/autocast.h>
#include <fcnlab/util/memory.h>
#include <fcnlab/util/winograd.h>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  fcnlab::reuse_freed_memory(); // as the CLI does
  const auto args = fcnlab::bench::parse_model_args(
      argc,
      argv,
      "ITERATIONS",
      {"plain", "channels_last", "fcn8s", "cuda", "bf16", "fp16", "direct"});
  at::set_num_threads(args.threads);
  if (args.has("direct")) {
    fcnlab::set_winograd_convolutions(false);
  }
  const auto device = fcnlab::bench::device_of(args);

  auto net = fcnlab::bench::benchmark_network(
      args.has("fcn8s") ? "fcn8s" : "fcn_alexnet");
  net->eval();
  net->to(device);
  torch::NoGradGuard no_grad;
  const fcnlab::Autocast autocast(
      device.type(), fcnlab::bench::precision_of(args));
  auto image = torch::rand({1, 3, args.height, args.width}, device) * 255;
  if (args.has("channels_last")) {
    image = image.contiguous(at::MemoryFormat::ChannelsLast);
  }
  const auto times = fcnlab::bench::time_calls(args.count, [&] {
    args.has("plain") ? net->trace(image).back().second : net->forward(image);
    fcnlab::bench::finish(device);
  });
  std::printf(
      "{\"median_ms\": %.3f, \"min_ms\": %.3f, \"threads\": %d}\n",
      fcnlab::bench::median(times),
      times.front(),
      at::get_num_threads());
  return 0;
}
