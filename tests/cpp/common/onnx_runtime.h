#pragma once

// Runs an ONNX model in ONNX Runtime through scripts/ort_run.js (Node and
// the npm package that scripts/install-onnxruntime.sh puts in
// third_party/node). FCNLAB_SOURCE_DIR is defined by the test's target.

#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fcnlab {
namespace testing {

/// Why ONNX Runtime cannot run here, or "" when it can.
inline std::string onnx_runtime_missing() {
  const std::filesystem::path package =
      std::filesystem::path(FCNLAB_SOURCE_DIR) /
      "third_party/node/node_modules/onnxruntime-node";
  if (std::system("node --version > /dev/null 2>&1") != 0) {
    return "node is not installed (scripts/install-deps.sh)";
  }
  if (!std::filesystem::exists(package)) {
    return "ONNX Runtime is not installed (scripts/install-onnxruntime.sh)";
  }
  return "";
}

namespace detail {

inline std::vector<int64_t> parse_dims(const std::string& line) {
  const auto at = line.find("\"dims\":[");
  const auto end = line.find(']', at);
  if (at == std::string::npos || end == std::string::npos) {
    throw std::runtime_error("no dims in ONNX Runtime's report: " + line);
  }
  std::vector<int64_t> dims;
  std::stringstream list(line.substr(at + 8, end - at - 8));
  for (std::string dim; std::getline(list, dim, ',');) {
    dims.push_back(std::stoll(dim));
  }
  return dims;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace detail

/// The first output of `model` for each float input, as ONNX Runtime
/// computes it in one session (float, or int64 for a class map); files go
/// to `scratch`.N.in / .out.
inline std::vector<torch::Tensor> onnx_runtime_forward(
    const std::string& model,
    const std::vector<torch::Tensor>& inputs,
    const std::string& scratch) {
  std::string command = "node " + std::string(FCNLAB_SOURCE_DIR) +
      "/scripts/ort_run.js " + model + " 1 2";
  for (size_t i = 0; i < inputs.size(); ++i) {
    const torch::Tensor values = inputs[i].to(torch::kFloat).contiguous();
    const std::string base = scratch + "." + std::to_string(i);
    std::ofstream(base + ".in", std::ios::binary)
        .write(
            static_cast<const char*>(values.data_ptr()),
            static_cast<std::streamsize>(values.nbytes()));
    std::string dims;
    for (const int64_t d : values.sizes()) {
      dims += (dims.empty() ? "" : ",") + std::to_string(d);
    }
    command += " " + base + ".in " + dims + " " + base + ".out";
  }
  command += " 2>&1";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) {
    throw std::runtime_error("cannot run " + command);
  }
  std::string report;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) {
    report.append(buffer, n);
  }
  if (::pclose(pipe) != 0) {
    throw std::runtime_error(command + ":\n" + report);
  }
  // One JSON line per input:
  // {"name":..,"type":"float32"|"int64","dims":[..],"seconds":[..]}
  std::vector<torch::Tensor> outputs;
  std::stringstream lines(report);
  std::string line;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!std::getline(lines, line)) {
      throw std::runtime_error("ONNX Runtime reported too little: " + report);
    }
    const bool int64 = line.find("\"type\":\"int64\"") != std::string::npos;
    torch::Tensor out = torch::empty(
        detail::parse_dims(line), int64 ? torch::kLong : torch::kFloat);
    const std::string bytes =
        detail::read_bytes(scratch + "." + std::to_string(i) + ".out");
    if (static_cast<size_t>(out.nbytes()) != bytes.size()) {
      throw std::runtime_error(
          "ONNX Runtime wrote " + std::to_string(bytes.size()) + " bytes for " +
          line);
    }
    std::memcpy(out.data_ptr(), bytes.data(), bytes.size());
    outputs.push_back(out);
  }
  return outputs;
}

/// onnx_runtime_forward() of one input.
inline torch::Tensor onnx_runtime_forward(
    const std::string& model,
    const torch::Tensor& input,
    const std::string& scratch) {
  return onnx_runtime_forward(model, std::vector<torch::Tensor>{input}, scratch)
      .front();
}

} // namespace testing
} // namespace fcnlab
