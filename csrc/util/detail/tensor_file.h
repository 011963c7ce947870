#pragma once

#include <ATen/core/Tensor.h>

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace torch {
namespace nn {
class Module;
} // namespace nn
} // namespace torch

namespace fcnlab {
namespace util {
namespace detail {

class TarReader;

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

/// A module's parameters, then its buffers, under their paths after
/// `prefix` ("conv1.weight"): what a tensor file stores of a network.
NamedTensors module_tensors(
    const torch::nn::Module& module,
    const std::string& prefix = "");

/// fcnlab's file of a JSON header and named tensors, for model files and
/// snapshots: an uncompressed POSIX tar whose first entry "header.json"
/// holds the header plus "tensors": [{"name", "dtype", "shape"}, ...], then
/// one entry "tensors/<i>" per tensor with its bytes (C order, the host's
/// little-endian layout). Nothing in it is executed or unpickled, so a
/// damaged file can only be refused. Written atomically.
void write_tensor_file(
    const std::string& path,
    nlohmann::json header,
    const NamedTensors& tensors);

/// One tensor as a tensor file's header declares it.
struct TensorEntry {
  std::string name;
  at::ScalarType dtype;
  std::vector<int64_t> shape;
};

/// Reads a tensor file: the header first, the tensors on request. `what`
/// ("model", "snapshot") starts every error, followed by the path. Sizes are
/// checked against the file's size before anything is allocated. A zip
/// archive (fcnlab 0.1's format) is refused with the upgrade command.
class TensorFileReader {
 public:
  TensorFileReader(const std::string& path, const std::string& what);
  ~TensorFileReader();

  /// The header without its "tensors" list.
  const nlohmann::json& header() const {
    return header_;
  }
  const std::vector<TensorEntry>& entries() const {
    return entries_;
  }

  /// Reads every tensor, in file order. A tensor named in `into` is read
  /// into that tensor, which must have its shape and dtype (a parameter of
  /// a network, say); the others are returned in new CPU tensors. Throws
  /// c10::Error naming the file and tensor when a shape or dtype differs or
  /// `into` names a tensor the file lacks. Call once.
  NamedTensors read_tensors(const std::map<std::string, at::Tensor>& into = {});

  /// "what: path" as errors start.
  std::string where() const;

 private:
  std::string path_;
  std::string what_;
  std::unique_ptr<TarReader> tar_;
  nlohmann::json header_;
  std::vector<TensorEntry> entries_;
};

/// True when `path` is a zip archive, the container of fcnlab's model files
/// and snapshots before tensor files.
bool is_zip_archive(const std::string& path);

} // namespace detail
} // namespace util
} // namespace fcnlab
