#include <fcnlab/models/model_io.h>

#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/util/atomic_file.h>

#include <c10/util/Exception.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <nlohmann/json.hpp>

#include <fstream>

namespace fcnlab {
namespace models {
namespace {

constexpr const char* kMetadataKey = "fcnlab_metadata";
constexpr const char* kFormat = "fcnlab-model";
constexpr int kVersion = 2;

} // namespace

void save_model(
    const FcnNet& model,
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
  if (const auto* alexnet = dynamic_cast<const FcnAlexNetImpl*>(model.get())) {
    const auto& options = alexnet->alexnet_options();
    metadata["architecture"] = "fcn_alexnet";
    metadata["options"] = {
        {"num_classes", options.num_classes()},
        {"mean", options.mean()},
        {"dropout", options.dropout()}};
  }
  torch::serialize::OutputArchive archive;
  model->save(archive);
  archive.write(kMetadataKey, c10::IValue(metadata.dump()));
  util::AtomicFile file(path);
  archive.save_to(file.temp_path());
  file.commit();
}

bool is_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, sizeof(magic));
  return in.gcount() == 4 && magic[0] == 'P' && magic[1] == 'K' &&
      magic[2] == 3 && magic[3] == 4;
}

ModelFile load_model(const std::string& path, const c10::Device& device) {
  {
    std::ifstream in(path, std::ios::binary);
    TORCH_CHECK(in.good(), "model: cannot open ", path);
  }
  TORCH_CHECK(
      is_model_file(path),
      "model: ",
      path,
      " is not an fcnlab model file (caffemodels are imported, not loaded)");
  torch::serialize::InputArchive archive;
  c10::IValue record;
  try {
    archive.load_from(path, device);
  } catch (const c10::Error& error) {
    TORCH_CHECK(
        false,
        "model: ",
        path,
        " is damaged: ",
        error.what_without_backtrace());
  }
  TORCH_CHECK(
      archive.try_read(kMetadataKey, record) && record.isString(),
      "model: ",
      path,
      " has no fcnlab metadata (a LibTorch archive of something else?)");
  nlohmann::json metadata;
  try {
    metadata = nlohmann::json::parse(record.toStringRef());
  } catch (const nlohmann::json::exception& error) {
    TORCH_CHECK(false, "model: ", path, " has bad metadata: ", error.what());
  }
  const std::string architecture = metadata.value("architecture", "");
  TORCH_CHECK(
      metadata.value("format", "") == kFormat &&
          (architecture == "fcn_alexnet" || architecture == "net"),
      "model: ",
      path,
      " holds a ",
      architecture.empty() ? "unknown" : architecture,
      " network; this fcnlab reads fcn_alexnet and net");
  TORCH_CHECK(
      metadata.value("version", 0) <= kVersion,
      "model: ",
      path,
      " has format version ",
      metadata.value("version", 0),
      "; this fcnlab reads up to ",
      kVersion);

  ModelFile file;
  try {
    file.class_names =
        metadata.value("class_names", std::vector<std::string>{});
    if (architecture == "fcn_alexnet") {
      const auto& options = metadata.at("options");
      FcnAlexNetOptions model_options(options.at("num_classes").get<int64_t>());
      model_options.mean(options.at("mean").get<std::vector<double>>());
      model_options.dropout(options.at("dropout").get<double>());
      file.model = FcnAlexNet(model_options);
    } else {
      file.model = FcnNet(caffe::parse_prototxt(
          metadata.at("prototxt").get<std::string>(), path + " (its network)"));
    }
  } catch (const nlohmann::json::exception& error) {
    TORCH_CHECK(false, "model: ", path, " has bad metadata: ", error.what());
  }
  file.model->to(device);
  try {
    file.model->load(archive);
  } catch (const c10::Error& error) {
    TORCH_CHECK(
        false,
        "model: ",
        path,
        " does not match its own options: ",
        error.what_without_backtrace());
  }
  file.model->eval();
  return file;
}

} // namespace models
} // namespace fcnlab
