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
/// file: a LibTorch archive (zip) holding every parameter under its module
/// path ("conv1/weight", ...) and a JSON record "fcnlab_metadata":
/// {"format": "fcnlab-model", "version": 2, "architecture": "fcn_alexnet"
///  or "net", "prototxt": the description (caffe::net_prototxt), "options":
///  {"num_classes", "mean", "dropout"} for FCN-Alexnet, "class_names": [...]}.
/// A network therefore reloads without its prototxt beside it. Written
/// atomically. Throws c10::Error when the file cannot be written.
void save_model(
    const FcnNet& model,
    const std::string& path,
    const std::vector<std::string>& class_names = {});

/// Loads a file written by save_model (version 1 files hold FCN-Alexnet)
/// onto `device`, in eval mode. Throws c10::Error naming the file when it is
/// missing, not an fcnlab model (a caffemodel, say), of a newer format
/// version, or damaged.
ModelFile load_model(
    const std::string& path,
    const c10::Device& device = c10::Device(c10::kCPU));

/// True when `path` looks like a file written by save_model (a zip archive).
bool is_model_file(const std::string& path);

} // namespace models
} // namespace fcnlab
