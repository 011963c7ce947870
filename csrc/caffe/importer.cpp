#include <fcnlab/caffe/importer.h>

#include "../util/detail/sizes.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <map>
#include <regex>
#include <sstream>

namespace fcnlab {
namespace caffe {
namespace {

// Legacy blobs are right-aligned to 4-D (a bias is 1x1x1xN): drop the
// leading ones so that shapes compare by their meaningful dimensions.
std::vector<int64_t> without_leading_ones(const std::vector<int64_t>& shape) {
  size_t first = 0;
  while (first + 1 < shape.size() && shape[first] == 1) {
    ++first;
  }
  return {shape.begin() + static_cast<std::ptrdiff_t>(first), shape.end()};
}

enum class Fit { kExact, kInnerProductToConv, kMismatch };

Fit fit(const std::vector<int64_t>& blob_shape, at::IntArrayRef target) {
  const auto blob = without_leading_ones(blob_shape);
  const std::vector<int64_t> wanted(target.begin(), target.end());
  if (blob == wanted || blob == without_leading_ones(wanted)) {
    return Fit::kExact;
  }
  // An InnerProduct weight (O, I*k*k) holds a convolution kernel (O, I, k, k)
  // flattened in C, H, W order.
  if (blob.size() == 2 && wanted.size() == 4 && blob[0] == wanted[0] &&
      blob[1] == wanted[1] * wanted[2] * wanted[3]) {
    return Fit::kInnerProductToConv;
  }
  return Fit::kMismatch;
}

// The shape a blob of the same rank would need, for error messages.
std::string expected_shape(const Blob& blob, at::IntArrayRef target) {
  if (without_leading_ones(blob.shape).size() == 2 && target.size() == 4) {
    return std::to_string(target[0]) + "x" +
        std::to_string(target[1] * target[2] * target[3]);
  }
  return util::detail::join_sizes(target);
}

// DIGITS renames the class-dependent layers, e.g. score_fr_21classes.
std::string module_name_for(
    const std::string& layer,
    const std::map<std::string, std::vector<at::Tensor>>& modules) {
  if (modules.count(layer)) {
    return layer;
  }
  static const std::regex class_suffix("^(.+)_[0-9]+classes$");
  std::smatch match;
  if (std::regex_match(layer, match, class_suffix) &&
      modules.count(match[1].str())) {
    return match[1].str();
  }
  return "";
}

struct PlannedCopy {
  at::Tensor target;
  at::Tensor source;
};

} // namespace

std::string ImportReport::to_string() const {
  std::ostringstream out;
  auto section = [&](const char* what, const std::vector<Entry>& entries) {
    for (const auto& entry : entries) {
      out << what << " " << entry.layer << ": " << entry.detail << "\n";
    }
  };
  section("copied          ", copied);
  section("reshaped        ", reshaped);
  section("dropped         ", dropped);
  section("kept initialised", kept_initialised);
  return out.str();
}

ImportReport import_weights(
    models::FcnNet model,
    const Net& net,
    const ImportOptions& options,
    const std::string& source) {
  // Parameters of each module that has any, weight first, in Caffe's blob
  // order.
  std::map<std::string, std::vector<at::Tensor>> modules;
  std::vector<std::string> module_order;
  for (const auto& child : model->named_children()) {
    std::vector<at::Tensor> parameters;
    for (const auto& parameter : child.value()->parameters(/*recurse=*/false)) {
      if (parameter.defined()) {
        parameters.push_back(parameter);
      }
    }
    if (!parameters.empty()) {
      modules[child.key()] = parameters;
      module_order.push_back(child.key());
    }
  }

  ImportReport report;
  std::vector<PlannedCopy> plan;
  std::map<std::string, std::string> filled_from;
  for (const auto& layer : net.layers) {
    if (layer.blobs.empty()) {
      continue;
    }
    const std::string name = module_name_for(layer.name, modules);
    if (name.empty()) {
      std::string shapes;
      for (const auto& blob : layer.blobs) {
        shapes += (shapes.empty() ? "" : ", ") + blob.shape_string();
      }
      report.dropped.push_back(
          {layer.name,
           layer.type + " " + shapes + " (not in " + model->spec().name + ")"});
      continue;
    }
    TORCH_CHECK(
        !filled_from.count(name),
        source,
        ": layers ",
        filled_from[name],
        " and ",
        layer.name,
        " both hold weights for ",
        name);
    filled_from[name] = layer.name;
    const auto& parameters = modules[name];
    const std::string origin =
        layer.name == name ? "" : " (from " + layer.name + ")";

    std::string mismatch;
    if (layer.blobs.size() != parameters.size()) {
      mismatch = source + ": layer " + layer.name + " has " +
          std::to_string(layer.blobs.size()) + " blobs, expected " +
          std::to_string(parameters.size());
    }
    std::vector<PlannedCopy> copies;
    bool reshaped = false;
    std::string shapes;
    for (size_t i = 0; mismatch.empty() && i < parameters.size(); ++i) {
      const Blob& blob = layer.blobs[i];
      const at::Tensor& target = parameters[i];
      const Fit how = fit(blob.shape, target.sizes());
      if (how == Fit::kMismatch) {
        mismatch = source + ": layer " + layer.name + " has " +
            blob.shape_string() + (i == 0 ? " weights" : " biases") +
            ", expected " + expected_shape(blob, target.sizes());
        break;
      }
      reshaped = reshaped || how == Fit::kInnerProductToConv;
      shapes += (i ? ", " : "") + blob.shape_string() +
          (how == Fit::kInnerProductToConv
               ? " -> " + util::detail::join_sizes(target.sizes())
               : "");
      auto values = at::from_blob(
          const_cast<float*>(blob.data.data()),
          {static_cast<int64_t>(blob.data.size())},
          at::kFloat);
      copies.push_back({target, values.view(target.sizes())});
    }
    if (!mismatch.empty()) {
      TORCH_CHECK(
          options.skip_mismatched(),
          mismatch,
          " (set skip_mismatched / --skip-mismatched to keep it initialised)");
      report.kept_initialised.push_back({name, "skipped: " + mismatch});
      continue;
    }
    plan.insert(plan.end(), copies.begin(), copies.end());
    auto& entries = reshaped ? report.reshaped : report.copied;
    entries.push_back({name, layer.type + " " + shapes + origin});
  }

  for (const auto& name : module_order) {
    if (!filled_from.count(name)) {
      const auto* spec = model->spec().find(name);
      const bool fixed_upsampling = spec &&
          spec->type == models::LayerType::kDeconvolution &&
          spec->param(0).lr_mult == 0;
      report.kept_initialised.push_back(
          {name,
           fixed_upsampling ? "bilinear upsampling kernel"
                            : "initial weights (not in " + source + ")"});
    }
  }

  torch::NoGradGuard no_grad;
  for (auto& copy : plan) {
    copy.target.copy_(copy.source);
  }
  return report;
}

ImportReport load_caffemodel(
    models::FcnNet model,
    const std::string& path,
    const ImportOptions& options) {
  return import_weights(model, read_caffemodel(path), options, path);
}

} // namespace caffe
} // namespace fcnlab
