// Profiles inference of FCN-Alexnet (or FCN-8s with "fcn8s") layer by
// layer, through forward() and through the plain LibTorch layers (trace()),
// with LibTorch's profiler and the per-layer ranges the model records;
// prints JSON of ms per layer:
//   profile_bench HEIGHT WIDTH ITERATIONS THREADS [fcn8s] [bf16]
// ("bf16": both under bfloat16 autocast)
#include "args.h"
#include "networks.h"

#include <fcnlab/util/autocast.h>
#include <fcnlab/util/memory.h>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>

namespace {

const std::string kPrefix = "fcnlab::";

// ms per layer, in the network's order.
template <typename Work>
nlohmann::ordered_json ms_per_layer(
    const fcnlab::models::FcnNet& net,
    int iterations,
    Work&& work) {
  work(); // warm-up: allocator, oneDNN primitives and packed weights
  std::ostringstream chrome_trace;
  {
    torch::autograd::profiler::RecordProfile profile(chrome_trace);
    for (int i = 0; i < iterations; ++i) {
      work();
    }
  }
  std::map<std::string, double> total_us;
  for (const auto& event : nlohmann::json::parse(chrome_trace.str())) {
    const std::string name = event.value("name", "");
    if (name.rfind(kPrefix, 0) == 0 && event.contains("dur")) {
      total_us[name.substr(kPrefix.size())] += event["dur"].get<double>();
    }
  }
  nlohmann::ordered_json result;
  for (const auto& layer : net->spec().layers) {
    result[layer.name] = total_us[layer.name] / 1000.0 / iterations;
  }
  return result;
}

} // namespace

int main(int argc, char** argv) {
  fcnlab::reuse_freed_memory(); // as the CLI does
  const auto args = fcnlab::bench::parse_model_args(
      argc, argv, "ITERATIONS", {"fcn8s", "bf16"});
  at::set_num_threads(args.threads);
  auto net = fcnlab::bench::benchmark_network(
      args.has("fcn8s") ? "fcn8s" : "fcn_alexnet");
  net->eval();
  torch::NoGradGuard no_grad;
  const fcnlab::Autocast autocast(
      c10::DeviceType::CPU, fcnlab::bench::precision_of(args));
  const auto image = torch::rand({1, 3, args.height, args.width}) * 255;
  nlohmann::ordered_json result;
  result["forward"] =
      ms_per_layer(net, args.count, [&] { net->forward(image); });
  result["plain_layers"] =
      ms_per_layer(net, args.count, [&] { net->trace(image); });
  std::printf("%s\n", result.dump().c_str());
  return 0;
}
