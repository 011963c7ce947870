#include <fcnlab/caffe/prototxt.h>

#include "detail/legacy_layers.h"
#include "detail/net_proto.h"
#include "detail/python_data_layer.h"
#include "detail/text_format.h"

#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/crop.h>

#include <c10/util/Exception.h>

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

namespace fcnlab {
namespace caffe {
namespace {

using models::LayerSpec;
using models::NetSpec;

const std::set<std::string>& input_types() {
  static const std::set<std::string> types{
      "Input", "Data", "DummyData", "ImageData", "MemoryData", "HDF5Data"};
  return types;
}

// Whether a NetStateRule holds for the TRAIN phase with no stages set.
bool holds_in_training(const ::caffe::NetStateRule& rule) {
  if (rule.has_phase() && rule.phase() != ::caffe::TRAIN) {
    return false;
  }
  if (rule.has_min_level() && rule.min_level() > 0) {
    return false;
  }
  if (rule.has_max_level() && rule.max_level() < 0) {
    return false;
  }
  return rule.stage_size() == 0;
}

// Caffe's rule: any matching include keeps a layer, any matching exclude
// drops it; with neither, the layer is always there.
bool used_in_training(const ::caffe::LayerParameter& layer) {
  if (layer.include_size() > 0) {
    for (const auto& rule : layer.include()) {
      if (holds_in_training(rule)) {
        return true;
      }
    }
    return false;
  }
  for (const auto& rule : layer.exclude()) {
    if (holds_in_training(rule)) {
      return false;
    }
  }
  return true;
}

std::string supported_types() {
  std::string names;
  for (const auto type : models::layer_types()) {
    names +=
        std::string(names.empty() ? "" : ", ") + models::caffe_type_name(type);
  }
  return names + ", plus input, data and loss layers";
}

void read_loss(const ::caffe::LayerParameter& layer, NetSpec& spec) {
  const auto& p = layer.loss_param();
  if (p.has_ignore_label()) {
    spec.loss.ignore_label = p.ignore_label();
  }
  if (p.has_normalization()) {
    // FULL also divides by the pixel count; only BATCH_SIZE and NONE sum.
    spec.loss.normalize = p.normalization() == ::caffe::LossParameter::VALID ||
        p.normalization() == ::caffe::LossParameter::FULL;
  } else if (p.has_normalize()) {
    spec.loss.normalize = p.normalize();
  }
}

// A SoftmaxWithLoss layer: what it scores and where.
struct LossLayer {
  const ::caffe::LayerParameter* proto = nullptr;
  std::string where;
};

std::string join(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names) {
    joined += (joined.empty() ? "" : ", ") + name;
  }
  return joined;
}

std::string names_of(const std::vector<LossLayer>& losses) {
  std::vector<std::string> names;
  for (const auto& loss : losses) {
    names.push_back(loss.proto->name());
  }
  return join(names);
}

// The loss to train with: the only one, or the one `chosen` names.
const LossLayer* choose_loss(
    const std::vector<LossLayer>& losses,
    const std::string& chosen,
    const std::string& source) {
  if (chosen.empty()) {
    TORCH_CHECK(
        losses.size() <= 1,
        source,
        ": the network has ",
        losses.size(),
        " loss layers (",
        names_of(losses),
        "); choose the one to train and evaluate with --loss-layer "
        "(loss_layer in C++ and Python)");
    return losses.empty() ? nullptr : &losses[0];
  }
  for (const auto& loss : losses) {
    if (loss.proto->name() == chosen) {
      return &loss;
    }
  }
  TORCH_CHECK(
      false,
      source,
      ": no loss layer named '",
      chosen,
      "' (",
      losses.empty() ? "the network has none"
                     : "its loss layers: " + names_of(losses),
      ")");
}

// Drops the layers that do not lead to spec.output; returns their names.
std::vector<std::string> prune_to_output(NetSpec& spec) {
  std::set<std::string> needed{spec.output};
  std::vector<bool> keep(spec.layers.size(), false);
  for (size_t i = spec.layers.size(); i-- > 0;) {
    const auto& layer = spec.layers[i];
    for (const auto& top : layer.tops) {
      keep[i] = keep[i] || needed.count(top) > 0;
    }
    if (keep[i]) {
      needed.insert(layer.bottoms.begin(), layer.bottoms.end());
    }
  }
  std::vector<LayerSpec> kept;
  std::vector<std::string> pruned;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    if (keep[i]) {
      kept.push_back(std::move(spec.layers[i]));
    } else {
      pruned.push_back(spec.layers[i].name);
    }
  }
  spec.layers = std::move(kept);
  return pruned;
}

// The image blob among the input tops: the one that is not a label and
// that the layers read. Two such blobs (NYUD's color and HHA) cannot be
// fed from one image.
std::string image_input(
    const NetSpec& spec,
    const std::vector<std::string>& inputs,
    const std::set<std::string>& labels) {
  std::set<std::string> read;
  for (const auto& layer : spec.layers) {
    read.insert(layer.bottoms.begin(), layer.bottoms.end());
  }
  std::vector<std::string> images;
  std::vector<std::string> read_images;
  for (const auto& name : inputs) {
    if (labels.count(name) ||
        std::find(images.begin(), images.end(), name) != images.end()) {
      continue;
    }
    images.push_back(name);
    if (read.count(name)) {
      read_images.push_back(name);
    }
  }
  TORCH_CHECK(
      read_images.size() <= 1,
      spec.source,
      ": the network needs ",
      read_images.size(),
      " image inputs (",
      join(read_images),
      "); fcnlab feeds one image per sample");
  if (!read_images.empty()) {
    return read_images[0];
  }
  return images.empty() ? "" : images[0];
}

// Plane sizes (height, width) that inputs are declared with.
using DeclaredSizes = std::map<std::string, std::pair<int64_t, int64_t>>;

// Sides past this are surely a mistake, and would overflow the counts.
constexpr int64_t kMaxDeclaredSide = int64_t{1} << 20;

void declare(
    DeclaredSizes& sizes,
    const std::string& blob,
    int64_t height,
    int64_t width,
    const std::string& source) {
  TORCH_CHECK(
      height >= 1 && width >= 1 && height <= kMaxDeclaredSide &&
          width <= kMaxDeclaredSide,
      source,
      ": input '",
      blob,
      "' is declared ",
      height,
      "x",
      width,
      "; expected sides of 1 to ",
      kMaxDeclaredSide);
  sizes[blob] = {height, width};
}

void declare(
    DeclaredSizes& sizes,
    const std::string& blob,
    const ::caffe::BlobShape& shape,
    const std::string& source) {
  if (shape.dim_size() == 4) {
    declare(sizes, blob, shape.dim(2), shape.dim(3), source);
  }
}

// `input_shape` or `input_dim` (N, C, H, W for each `input`).
void declare_net_inputs(
    const ::caffe::NetParameter& net,
    const std::string& source,
    DeclaredSizes& sizes) {
  for (int i = 0; i < net.input_size(); ++i) {
    if (i < net.input_shape_size()) {
      declare(sizes, net.input(i), net.input_shape(i), source);
    } else if (net.input_dim_size() >= 4 * (i + 1)) {
      declare(
          sizes,
          net.input(i),
          net.input_dim(4 * i + 2),
          net.input_dim(4 * i + 3),
          source);
    }
  }
}

// An Input layer's shapes (one for every top, or one for all), or a data
// layer's crop_size.
void declare_layer_inputs(
    const ::caffe::LayerParameter& layer,
    const std::string& where,
    DeclaredSizes& sizes) {
  const auto& shapes = layer.input_param().shape();
  for (int i = 0; i < layer.top_size(); ++i) {
    if (shapes.size() == 1 || i < shapes.size()) {
      declare(
          sizes, layer.top(i), shapes.Get(shapes.size() == 1 ? 0 : i), where);
    } else if (layer.transform_param().crop_size() > 0) {
      const int64_t side = layer.transform_param().crop_size();
      declare(sizes, layer.top(i), side, side, where);
    }
  }
}

// The V2 layers of `net` with their lines in the text, V1 and V0 entries
// upgraded.
void collect_layers(
    const ::caffe::NetParameter& net,
    const google::protobuf::TextFormat::ParseInfoTree& locations,
    const std::string& source,
    std::vector<::caffe::LayerParameter>& layers,
    std::vector<int>& lines) {
  TORCH_CHECK(
      net.layer_size() == 0 || net.layers_size() == 0,
      source,
      ": mixes V1 `layers` and V2 `layer` entries");
  const auto* descriptor = net.GetDescriptor();
  if (net.layers_size() == 0) {
    const auto* field = descriptor->FindFieldByName("layer");
    for (int i = 0; i < net.layer_size(); ++i) {
      layers.push_back(net.layer(i));
      lines.push_back(locations.GetLocation(field, i).line + 1);
    }
    return;
  }
  const auto* field = descriptor->FindFieldByName("layers");
  std::vector<int> origin;
  const auto upgraded =
      detail::upgrade_v0_layers(net.layers(), source, &origin);
  for (int i = 0; i < upgraded.size(); ++i) {
    layers.push_back(detail::upgrade_v1_layer(upgraded.Get(i)));
    lines.push_back(locations.GetLocation(field, origin[i]).line + 1);
  }
}

} // namespace

NetSpec parse_prototxt(
    const std::string& text,
    const std::string& source,
    const PrototxtOptions& options) {
  ::caffe::NetParameter net;
  google::protobuf::TextFormat::ParseInfoTree locations;
  detail::parse_text(text, source, net, &locations);
  std::vector<::caffe::LayerParameter> layers;
  std::vector<int> lines;
  collect_layers(net, locations, source, layers, lines);

  NetSpec spec;
  spec.name = net.name();
  spec.source = source;
  std::vector<std::string> inputs(net.input().begin(), net.input().end());
  DeclaredSizes declared;
  declare_net_inputs(net, source, declared);
  std::set<std::string> labels;
  std::vector<LossLayer> losses;
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& layer = layers[i];
    const std::string where =
        source + ":" + std::to_string(lines[i]) + ": layer " + layer.name();
    if (!used_in_training(layer)) {
      continue;
    }
    const std::string& type = layer.type();
    if (input_types().count(type)) {
      inputs.insert(inputs.end(), layer.top().begin(), layer.top().end());
      declare_layer_inputs(layer, where, declared);
      const auto& mean = layer.transform_param().mean_value();
      if (!mean.empty()) {
        spec.mean.assign(mean.begin(), mean.end());
      }
      continue;
    }
    if (type == "Python") {
      const auto data = detail::read_python_data_layer(layer, where);
      inputs.insert(inputs.end(), layer.top().begin(), layer.top().end());
      if (!data.mean.empty()) {
        spec.mean = data.mean;
      }
      spec.notes.push_back(data.note);
      continue;
    }
    if (type == "SoftmaxWithLoss") {
      TORCH_CHECK(
          layer.bottom_size() == 2,
          where,
          ": SoftmaxWithLoss takes 2 bottoms (scores, label), got ",
          layer.bottom_size());
      losses.push_back({&layer, where});
      labels.insert(layer.bottom(1));
      continue;
    }
    if (type == "Accuracy") {
      if (layer.bottom_size() > 1) {
        labels.insert(layer.bottom(1));
      }
      if (layer.accuracy_param().has_ignore_label() &&
          !layer.loss_param().has_ignore_label()) {
        spec.loss.ignore_label = layer.accuracy_param().ignore_label();
      }
      continue;
    }
    if (type == "Silence") {
      continue;
    }
    const auto graph_type = models::layer_type_from_name(type);
    TORCH_CHECK(
        graph_type,
        where,
        ": unsupported layer type '",
        type,
        "' (fcnlab runs ",
        supported_types(),
        ")");
    LayerSpec spec_layer = detail::read_layer(layer, *graph_type, where);
    spec_layer.line = lines[i];
    spec.layers.push_back(std::move(spec_layer));
  }

  const LossLayer* loss = choose_loss(losses, options.loss_layer, source);
  if (loss != nullptr) {
    spec.output = loss->proto->bottom(0);
    read_loss(*loss->proto, spec);
  }
  if (losses.size() > 1) {
    const auto pruned = prune_to_output(spec);
    spec.notes.push_back(
        "loss layer " + loss->proto->name() + " chosen of " + names_of(losses) +
        (pruned.empty() ? std::string("; no layer pruned")
                        : "; pruned (they do not feed it): " + join(pruned)));
  }
  spec.input = image_input(spec, inputs, labels);
  TORCH_CHECK(
      !spec.input.empty(),
      source,
      ": no input: expected an Input, Data or Python data layer (or "
      "`input:`) for the image");
  if (const auto size = declared.find(spec.input); size != declared.end()) {
    std::tie(spec.input_height, spec.input_width) = size->second;
  }

  if (loss == nullptr) {
    // A deploy file ends with its scores, or with a Softmax over them.
    TORCH_CHECK(!spec.layers.empty(), source, ": the network has no layers");
    if (spec.layers.back().type == models::LayerType::kSoftmax &&
        spec.layers.size() > 1) {
      spec.layers.pop_back();
    }
    const auto& last = spec.layers.back();
    TORCH_CHECK(
        last.tops.size() == 1,
        spec.where(last),
        ": fcnlab runs layers with exactly one top, got ",
        last.tops.size());
    spec.output = last.tops[0];
  }
  models::validate(spec);
  models::resolve_crop_offsets(spec);
  return spec;
}

NetSpec read_prototxt(const std::string& path, const PrototxtOptions& options) {
  std::ifstream in(path);
  TORCH_CHECK(in.good(), "prototxt: cannot open ", path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_prototxt(text.str(), path, options);
}

NetSpec network_spec(
    const std::string& network,
    int64_t num_classes,
    const PrototxtOptions& options) {
  const auto names = models::builtin_net_names();
  if (std::find(names.begin(), names.end(), network) != names.end()) {
    return models::builtin_net(network, num_classes);
  }
  return read_prototxt(network, options);
}

std::string net_prototxt(const NetSpec& spec) {
  ::caffe::NetParameter net;
  net.set_name(spec.name);
  auto* input = detail::add_input_layer(net, spec.input);
  input->add_top("label");
  if (spec.input_height >= 1 && spec.input_width >= 1) {
    // One shape for both tops: the reader takes the image's.
    auto* shape = input->mutable_input_param()->add_shape();
    for (const int64_t dim :
         {int64_t{1}, int64_t{3}, spec.input_height, spec.input_width}) {
      shape->add_dim(dim);
    }
  }
  for (const double value : spec.mean) {
    input->mutable_transform_param()->add_mean_value(static_cast<float>(value));
  }
  for (const auto& layer : spec.layers) {
    detail::describe_layer(layer, net.add_layer());
  }
  auto* loss = net.add_layer();
  loss->set_name("loss");
  loss->set_type("SoftmaxWithLoss");
  loss->add_bottom(spec.output);
  loss->add_bottom("label");
  loss->add_top("loss");
  loss->mutable_loss_param()->set_ignore_label(
      static_cast<int32_t>(spec.loss.ignore_label));
  loss->mutable_loss_param()->set_normalize(spec.loss.normalize);
  std::string text;
  TORCH_CHECK(
      google::protobuf::TextFormat::PrintToString(net, &text),
      "cannot format the prototxt of ",
      spec.name);
  return text;
}

} // namespace caffe
} // namespace fcnlab
