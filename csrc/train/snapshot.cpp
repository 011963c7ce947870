#include "detail/snapshot.h"

#include <fcnlab/train/trainer.h>
#include <fcnlab/util/atomic_file.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>

namespace fcnlab {
namespace train {
namespace detail {
namespace {

constexpr const char* kSnapshotFormat = "fcnlab-snapshot";
// 1: a zip archive of LibTorch (upgrade_legacy_file converts it).
constexpr int kSnapshotVersion = 2;
const std::string kScalerPrefix = "scaler.";
constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

EpochInfo epoch_from_json(const nlohmann::json& j) {
  auto number = [&](const char* key) {
    return j.at(key).is_null() ? kMissing : j.at(key).get<double>();
  };
  EpochInfo e;
  e.epoch = j.at("epoch").get<int64_t>();
  e.iteration = j.at("iteration").get<int64_t>();
  e.learning_rate = j.at("lr").get<double>();
  e.train_loss = number("train_loss");
  e.train_accuracy = number("train_accuracy");
  e.val_loss = number("val_loss");
  e.val_pixel_accuracy = number("val_pixel_accuracy");
  e.val_mean_accuracy = number("val_mean_accuracy");
  e.val_mean_iu = number("val_mean_iu");
  e.val_frequency_weighted_iu = number("val_fw_iu");
  if (j.contains("val_class_iu")) { // absent before per-class IU was kept
    for (const auto& value : j.at("val_class_iu")) {
      e.val_class_iu.push_back(
          value.is_null() ? kMissing : value.get<double>());
    }
  }
  if (j.contains("val_confusion")) { // absent before it was kept
    e.val_confusion = j.at("val_confusion").get<std::vector<int64_t>>();
  }
  e.seconds = j.at("seconds").get<double>();
  return e;
}

// The position recorded in a snapshot's header; nlohmann's exceptions
// (missing keys, wrong types) become errors naming the file.
TrainingPosition position_from_json(
    const nlohmann::json& state,
    const std::string& path) {
  try {
    TORCH_CHECK(
        state.value("format", "") == kSnapshotFormat,
        "snapshot: ",
        path,
        " is not an fcnlab training snapshot");
    TrainingPosition position;
    position.epoch = state.at("epoch").get<int64_t>();
    position.epoch_images_done = state.at("position").get<int64_t>();
    position.iteration = state.at("iteration").get<int64_t>();
    position.num_classes = state.at("num_classes").get<int64_t>();
    TORCH_CHECK(
        position.epoch >= 0 && position.epoch_images_done >= 0 &&
            position.iteration >= 0 && position.num_classes >= 1,
        "snapshot: ",
        path,
        " records a negative position or no classes");
    for (const auto& info : state.at("history")) {
      position.history.push_back(epoch_from_json(info));
    }
    return position;
  } catch (const nlohmann::json::exception& error) {
    TORCH_CHECK(
        false, "snapshot: ", path, " has a damaged state: ", error.what());
  }
}

} // namespace

nlohmann::json epoch_to_json(const EpochInfo& e) {
  auto number = [](double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
  };
  nlohmann::json class_iu = nlohmann::json::array();
  for (const double iu : e.val_class_iu) {
    class_iu.push_back(number(iu));
  }
  nlohmann::json j = {
      {"epoch", e.epoch},
      {"iteration", e.iteration},
      {"lr", e.learning_rate},
      {"train_loss", number(e.train_loss)},
      {"train_accuracy", number(e.train_accuracy)},
      {"val_loss", number(e.val_loss)},
      {"val_pixel_accuracy", number(e.val_pixel_accuracy)},
      {"val_mean_accuracy", number(e.val_mean_accuracy)},
      {"val_mean_iu", number(e.val_mean_iu)},
      {"val_fw_iu", number(e.val_frequency_weighted_iu)},
      {"val_class_iu", class_iu},
      {"seconds", e.seconds}};
  if (!e.val_confusion.empty()) {
    j["val_confusion"] = e.val_confusion;
  }
  return j;
}

void write_snapshot(
    const std::string& path,
    const models::FcnNet& model,
    const Solver& solver,
    const TrainingPosition& position,
    const util::detail::NamedTensors& scaler) {
  auto tensors = util::detail::module_tensors(*model, "model.");
  for (const auto& [name, tensor] : solver.state()) {
    tensors.emplace_back("solver." + name, tensor);
  }
  for (const auto& [name, tensor] : scaler) {
    tensors.emplace_back(kScalerPrefix + name, tensor);
  }
  {
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    tensors.emplace_back("rng", generator.get_state());
  }
  nlohmann::json history = nlohmann::json::array();
  for (const auto& info : position.history) {
    history.push_back(epoch_to_json(info));
  }
  util::detail::write_tensor_file(
      path,
      {{"format", kSnapshotFormat},
       {"version", kSnapshotVersion},
       {"epoch", position.epoch},
       {"position", position.epoch_images_done},
       {"iteration", position.iteration},
       {"num_classes", position.num_classes},
       {"history", history}},
      tensors);
}

SnapshotFile read_snapshot(const std::string& path) {
  TORCH_CHECK(
      std::filesystem::is_regular_file(path), "snapshot: cannot open ", path);
  SnapshotFile snapshot;
  snapshot.reader =
      std::make_unique<util::detail::TensorFileReader>(path, "snapshot");
  snapshot.position = position_from_json(snapshot.reader->header(), path);
  return snapshot;
}

// The model's tensors by their names in a snapshot, once the snapshot is
// known to be of as many classes.
std::map<std::string, at::Tensor> weight_targets(
    const SnapshotFile& snapshot,
    const models::FcnNet& model) {
  TORCH_CHECK(
      snapshot.position.num_classes == model->num_classes(),
      snapshot.reader->where(),
      " is of a ",
      snapshot.position.num_classes,
      "-class model, this one has ",
      model->num_classes());
  std::map<std::string, at::Tensor> into;
  for (const auto& [name, tensor] :
       util::detail::module_tensors(*model, "model.")) {
    into.emplace(name, tensor);
  }
  return into;
}

util::detail::NamedTensors restore_snapshot(
    SnapshotFile& snapshot,
    models::FcnNet& model,
    Solver& solver) {
  const std::string where = snapshot.reader->where();
  auto into = weight_targets(snapshot, model);
  for (const auto& [name, tensor] : solver.state()) {
    into.emplace("solver." + name, tensor);
  }
  auto others = snapshot.reader->read_tensors(into);
  at::Tensor rng;
  util::detail::NamedTensors scaler;
  for (auto& [name, tensor] : others) {
    if (name.rfind(kScalerPrefix, 0) == 0) {
      scaler.emplace_back(name.substr(kScalerPrefix.size()), tensor);
      continue;
    }
    TORCH_CHECK(
        name == "rng",
        where,
        " holds tensor ",
        name,
        ", which this training lacks (another network or solver?)");
    rng = tensor;
  }
  TORCH_CHECK(rng.defined(), where, " has no RNG state");
  try {
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(rng);
  } catch (const c10::Error& error) {
    TORCH_CHECK(
        false, where, ": bad RNG state: ", error.what_without_backtrace());
  }
  return scaler;
}

} // namespace detail

void load_snapshot_weights(
    const std::string& snapshot_path,
    models::FcnNet model) {
  auto snapshot = detail::read_snapshot(snapshot_path);
  const std::string where = snapshot.reader->where();
  auto into = weight_targets(snapshot, model);
  at::NoGradGuard no_grad;
  // The solver's state and the RNG come back as tensors of their own.
  const auto others = snapshot.reader->read_tensors(into);
  for (const auto& [name, tensor] : others) {
    TORCH_CHECK(
        name.rfind("model.", 0) != 0,
        where,
        " holds weight ",
        name,
        ", which this network lacks (another network?)");
  }
}

namespace detail {} // namespace detail
} // namespace train
} // namespace fcnlab
