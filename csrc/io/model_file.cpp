#include <fcnlab/io/model_file.h>

#include "../util/detail/tensor_file.h"

#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/util/atomic_file.h>

#include <c10/util/Exception.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

namespace fcnlab {
namespace io {
namespace {

constexpr const char* kFormat = "fcnlab-model";
// 1-2: zip archives of LibTorch (upgrade_legacy_file converts them).
constexpr int kVersion = 3;
// A tensor file starts with its first tar header, which names header.json.
constexpr char kTensorFileStart[] = "header.json";

} // namespace

void save_model(
    const models::FcnNet& model,
    const std::string& path,
    const std::vector<std::string>& class_names) {
  TORCH_CHECK_VALUE(
      class_names.empty() ||
          static_cast<int64_t>(class_names.size()) == model->num_classes(),
      "cannot save ",
      path,
      ": ",
      class_names.size(),
      " class names for a model of ",
      model->num_classes(),
      " classes");
  nlohmann::json metadata = {
      {"format", kFormat},
      {"version", kVersion},
      {"architecture", "net"},
      {"prototxt", caffe::net_prototxt(model->spec())},
      {"class_names", class_names},
  };
  // FCN-Alexnet keeps its options, so that it reloads as FcnAlexNet.
  if (const auto* alexnet =
          dynamic_cast<const models::FcnAlexNetImpl*>(model.get())) {
    const auto& options = alexnet->alexnet_options();
    metadata["architecture"] = "fcn_alexnet";
    metadata["options"] = {
        {"num_classes", options.num_classes()},
        {"mean", options.mean()},
        {"dropout", options.dropout()}};
  }
  util::detail::write_tensor_file(
      path, std::move(metadata), util::detail::module_tensors(*model));
}

bool is_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char name[sizeof(kTensorFileStart)] = {};
  in.read(name, sizeof(name));
  return util::detail::is_zip_archive(path) ||
      (in.gcount() == sizeof(name) &&
       std::equal(name, name + sizeof(name), kTensorFileStart));
}

ModelFile load_model(const std::string& path, const c10::Device& device) {
  TORCH_CHECK(
      std::filesystem::is_regular_file(path), "model: cannot open ", path);
  util::detail::TensorFileReader reader(path, "model");
  const nlohmann::json& metadata = reader.header();
  ModelFile file;
  models::NetSpec spec;
  std::optional<models::FcnAlexNetOptions> alexnet;
  try {
    const std::string architecture = metadata.value("architecture", "");
    TORCH_CHECK(
        metadata.value("format", "") == kFormat &&
            (architecture == "fcn_alexnet" || architecture == "net"),
        "model: ",
        path,
        " holds a ",
        architecture.empty() ? "unknown" : architecture,
        " network; this fcnlab reads fcn_alexnet and net");
    const int version = metadata.value("version", 0);
    TORCH_CHECK(
        version <= kVersion,
        "model: ",
        path,
        " has format version ",
        version,
        "; this fcnlab reads up to ",
        kVersion);
    file.class_names =
        metadata.value("class_names", std::vector<std::string>{});
    if (architecture == "fcn_alexnet") {
      const auto& options = metadata.at("options");
      alexnet.emplace(options.at("num_classes").get<int64_t>());
      alexnet->mean(options.at("mean").get<std::vector<double>>());
      alexnet->dropout(options.at("dropout").get<double>());
      spec = models::fcn_alexnet_spec(*alexnet);
    } else {
      spec = caffe::parse_prototxt(
          metadata.at("prototxt").get<std::string>(), path + " (its network)");
    }
  } catch (const nlohmann::json::exception& error) {
    TORCH_CHECK(false, "model: ", path, " has bad metadata: ", error.what());
  }
  // The weights are in the file: a network larger than it is damage, and
  // must not be allocated.
  const int64_t parameters = parameter_count(spec);
  const auto file_size = static_cast<int64_t>(std::filesystem::file_size(path));
  TORCH_CHECK(
      parameters <= file_size / int64_t(sizeof(float)),
      "model: ",
      path,
      " describes a network of ",
      parameters,
      " parameters, more than its ",
      file_size,
      " bytes hold");
  if (alexnet) {
    file.model = models::FcnAlexNet(*alexnet);
  } else {
    file.model = models::FcnNet(spec);
  }
  std::map<std::string, at::Tensor> into;
  for (auto& [name, tensor] : util::detail::module_tensors(*file.model)) {
    into.emplace(name, tensor);
  }
  const auto extra = reader.read_tensors(into);
  TORCH_CHECK(
      extra.empty(),
      "model: ",
      path,
      " holds tensor ",
      extra.empty() ? "" : extra.front().first,
      ", which its network lacks");
  file.model->to(device);
  file.model->eval();
  return file;
}

} // namespace io
} // namespace fcnlab
