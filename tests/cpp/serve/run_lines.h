#pragma once
// metrics.jsonl lines as the Trainer writes them, for the dashboard's tests.

#include <nlohmann/json.hpp>

#include <string>

namespace fcnlab {
namespace testing {

/// One iteration line (with its newline) at wall time `time`.
inline std::string iteration_line(int iteration, double loss, double time) {
  return nlohmann::json{
             {"type", "iteration"},
             {"iteration", iteration},
             {"epoch", 1},
             {"loss", loss},
             {"accuracy", 0.5},
             {"lr", 0.01},
             {"images_per_second", 4.0},
             {"time", time}}
             .dump() +
      "\n";
}

} // namespace testing
} // namespace fcnlab
