#include <fcnlab/io/model_file.h>

#include "../util/detail/tensor_file.h"

#include <c10/util/Exception.h>
#include <torch/serialize/input-archive.h>

#include <nlohmann/json.hpp>

#include <map>

namespace fcnlab {
namespace io {
namespace {

// The tensors and strings of a LibTorch archive, nested archives flattened
// with '.' ("model" > "conv1" > "weight" is "model.conv1.weight").
void flatten(
    torch::serialize::InputArchive& archive,
    const std::string& prefix,
    util::detail::NamedTensors& tensors,
    std::map<std::string, std::string>& strings) {
  for (const auto& key : archive.keys()) {
    torch::serialize::InputArchive nested;
    at::Tensor tensor;
    c10::IValue value;
    if (archive.try_read(key, nested)) {
      flatten(nested, prefix + key + ".", tensors, strings);
    } else if (archive.try_read(key, tensor)) {
      tensors.emplace_back(prefix + key, tensor);
    } else if (archive.try_read(key, value) && value.isString()) {
      strings[prefix + key] = value.toStringRef();
    }
  }
}

// LibTorch's message: a c10::Error without its C++ backtrace, or what() of
// the other kinds its TorchScript importer throws.
std::string error_text(const std::exception& error) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&error)) {
    return c10_error->what_without_backtrace();
  }
  return error.what();
}

} // namespace

std::string upgrade_legacy_file(const std::string& path) {
  TORCH_CHECK(
      util::detail::is_zip_archive(path),
      "upgrade: ",
      path,
      " is not a zip archive of fcnlab 0.1 (missing, or already upgraded)");
  util::detail::NamedTensors tensors;
  std::map<std::string, std::string> strings;
  nlohmann::json header;
  std::string kind;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    flatten(archive, "", tensors, strings);
    // Model files kept their description in "fcnlab_metadata", snapshots
    // their position in "state"; the tensor file's header holds either.
    if (strings.count("fcnlab_metadata")) {
      kind = "model";
      header = nlohmann::json::parse(strings.at("fcnlab_metadata"));
      header["version"] = 3;
    } else if (strings.count("state")) {
      kind = "snapshot";
      header = nlohmann::json::parse(strings.at("state"));
      header["version"] = 2;
    }
  } catch (const std::exception& error) {
    TORCH_CHECK(false, "upgrade: ", path, " is damaged: ", error_text(error));
  }
  TORCH_CHECK(
      !kind.empty(),
      "upgrade: ",
      path,
      " is a LibTorch archive but neither an fcnlab model nor a snapshot");
  util::detail::write_tensor_file(path, header, tensors);
  return kind;
}

} // namespace io
} // namespace fcnlab
