// Helpers shared by the benchmark programs: timing and memory readings.
#pragma once

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

namespace fcnlab {
namespace bench {

/// Calls `work` twice to warm up (allocator, oneDNN primitive and weight
/// caches), then `iterations` times; returns the times in ms, sorted.
template <typename Work>
std::vector<double> time_calls(int iterations, Work&& work) {
  for (int i = 0; i < 2; ++i) {
    work();
  }
  std::vector<double> times;
  for (int i = 0; i < iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    work();
    const std::chrono::duration<double, std::milli> elapsed =
        std::chrono::steady_clock::now() - start;
    times.push_back(elapsed.count());
  }
  std::sort(times.begin(), times.end());
  return times;
}

inline double median(const std::vector<double>& sorted) {
  return sorted[sorted.size() / 2];
}

/// A field of /proc/self/status in MiB ("VmRSS": resident now, "VmHWM":
/// peak resident), or -1 where /proc is unavailable.
inline double status_mib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == field + ":") {
      double kib = 0;
      status >> kib;
      return kib / 1024.0;
    }
  }
  return -1;
}

} // namespace bench
} // namespace fcnlab
