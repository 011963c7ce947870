#pragma once

#include <fcnlab/caffe/importer.h>
#include <fcnlab/models/fcn_net.h>

#include <c10/core/Device.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fcnlab {
/// Files that hold a whole network: fcnlab's model files (a network's
/// description and weights in one file) and "model file or caffemodel"
/// loading. It sits above models/ and caffe/: a model file records its
/// network as a Caffe prototxt.
namespace io {

/// An fcnlab model file's content.
struct ModelFile {
  /// An FcnAlexNetImpl for FCN-Alexnet files, an FcnNetImpl otherwise.
  models::FcnNet model{nullptr};
  /// Class names in index order, when the file records them.
  std::vector<std::string> class_names;
};

/// Saves `model` with its description (and optional class names) as one
/// tensor file: an uncompressed tar whose first entry header.json holds
/// {"format": "fcnlab-model", "version": 3, "architecture": "fcn_alexnet"
///  or "net", "prototxt": the description (caffe::net_prototxt), "options":
///  {"num_classes", "mean", "dropout"} for FCN-Alexnet, "class_names": [...],
///  "tensors": [{"name": "conv1.weight", "dtype": "float32", "shape": [...]},
///  ...]}, followed by each tensor's raw bytes (entries tensors/0, ...).
/// A network therefore reloads without its prototxt beside it, and nothing
/// in the file is executed or unpickled. Written atomically. Throws
/// c10::Error naming the file when it cannot be written (a full disk).
void save_model(
    const models::FcnNet& model,
    const std::string& path,
    const std::vector<std::string>& class_names = {});

/// Loads a file written by save_model onto `device`, in eval mode. Throws
/// c10::Error naming the file when it is missing, not an fcnlab model (a
/// caffemodel, say), of a newer format version, of fcnlab 0.1's zip format
/// (see upgrade_legacy_file), or damaged; sizes are checked against the
/// file's size before anything is allocated.
ModelFile load_model(
    const std::string& path,
    const c10::Device& device = c10::Device(c10::kCPU));

/// True when `path` looks like a file written by save_model (a tensor file,
/// or a zip archive of fcnlab 0.1).
bool is_model_file(const std::string& path);

/// Converts a model file or training snapshot in the zip format of fcnlab
/// 0.1 (a LibTorch archive) to today's tensor file, in place and
/// atomically; returns "model" or "snapshot". The zip is read through
/// LibTorch's TorchScript importer, which trusts its input and can crash on
/// a damaged file, which is why load_model and Trainer::resume no longer
/// read it: upgrade files you wrote yourself. Throws c10::Error naming the
/// file when it is not such an archive.
std::string upgrade_legacy_file(const std::string& path);

/// What load_network() gives.
struct LoadedNetwork {
  models::FcnNet model{nullptr};
  /// The class names a model file records; empty for a caffemodel.
  std::vector<std::string> class_names;
  /// What importing a caffemodel did; nullopt for a model file.
  std::optional<caffe::ImportReport> report;
};

/// A network from any weights file: an fcnlab model file is loaded as saved
/// (its own description wins); anything else is read as a caffemodel and
/// imported into the network that `build` makes (FcnNet(spec), an
/// FcnAlexNet, ...). The CLI's train, eval, segment and summary and Python
/// load weights through it.
LoadedNetwork load_network(
    const std::string& path,
    const std::function<models::FcnNet()>& build,
    const caffe::ImportOptions& import_options = {});

/// load_network() into FcnNet(spec) for a caffemodel.
LoadedNetwork load_network(
    const std::string& path,
    const models::NetSpec& spec,
    const caffe::ImportOptions& import_options = {});

} // namespace io
} // namespace fcnlab
