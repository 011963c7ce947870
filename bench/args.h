// The command line the model benchmarks share:
//   PROGRAM HEIGHT WIDTH COUNT THREADS [FLAG ...]
#pragma once

#include <fcnlab/util/autocast.h>
#include <fcnlab/util/device.h>

#include <c10/core/Device.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

namespace fcnlab {
namespace bench {

struct ModelArgs {
  int64_t height = 0;
  int64_t width = 0;
  int count = 0; // iterations or steps
  int threads = 0;
  std::set<std::string> flags;

  bool has(const std::string& flag) const {
    return flags.count(flag) > 0;
  }
};

/// A positive integer, or -1 for anything else ("", "12x", "0").
inline int64_t positive(const char* text) {
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  return end != text && *end == '\0' && value > 0 ? value : -1;
}

/// Parses HEIGHT WIDTH COUNT THREADS and any of `known` flags. On anything
/// else (a missing or non-positive number, an unknown flag, which would
/// otherwise measure the wrong thing silently) prints what is wrong and the
/// usage, and exits with status 2.
inline ModelArgs parse_model_args(
    int argc,
    char** argv,
    const std::string& count_name,
    const std::vector<std::string>& known) {
  std::string usage = "HEIGHT WIDTH " + count_name + " THREADS";
  for (const auto& flag : known) {
    usage += " [" + flag + "]";
  }
  const auto fail = [&](const std::string& problem) {
    std::fprintf(
        stderr,
        "%s: %s\nusage: %s %s\n",
        argv[0],
        problem.c_str(),
        argv[0],
        usage.c_str());
    std::exit(2);
  };
  if (argc < 5) {
    fail("expected 4 numbers, got " + std::to_string(argc - 1) + " arguments");
  }
  const int64_t numbers[] = {
      positive(argv[1]),
      positive(argv[2]),
      positive(argv[3]),
      positive(argv[4])};
  for (int i = 0; i < 4; ++i) {
    if (numbers[i] < 0) {
      fail(std::string("not a positive integer: '") + argv[i + 1] + "'");
    }
  }
  ModelArgs args;
  args.height = numbers[0];
  args.width = numbers[1];
  args.count = static_cast<int>(numbers[2]);
  args.threads = static_cast<int>(numbers[3]);
  for (int i = 5; i < argc; ++i) {
    if (std::find(known.begin(), known.end(), argv[i]) == known.end()) {
      fail(std::string("unknown option '") + argv[i] + "'");
    }
    args.flags.insert(argv[i]);
  }
  return args;
}

/// The "cuda" flag's device (checked), else the CPU.
inline c10::Device device_of(const ModelArgs& args) {
  return fcnlab::parse_device(args.has("cuda") ? "cuda" : "cpu");
}

/// "bf16" or "fp16" (autocast), else float32.
inline Precision precision_of(const ModelArgs& args) {
  return args.has("fp16") ? Precision::kFloat16
      : args.has("bf16")  ? Precision::kBFloat16
                          : Precision::kFloat32;
}

/// Waits until the device has finished what was queued (timings of CUDA).
inline void finish(const c10::Device& device) {
  if (device.is_cuda()) {
    torch::cuda::synchronize();
  }
}

} // namespace bench
} // namespace fcnlab
