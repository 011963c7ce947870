#pragma once

#include <fcnlab/models/fcn_net.h>

#include <c10/core/Device.h>

#include <string>
#include <vector>

namespace fcnlab {
namespace models {

/// An fcnlab model file's content.
struct ModelFile {
  /// An FcnAlexNetImpl for FCN-Alexnet files, an FcnNetImpl otherwise.
  FcnNet model{nullptr};
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
    const FcnNet& model,
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

} // namespace models
} // namespace fcnlab
