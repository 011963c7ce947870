#include <fcnlab/caffe/prototxt.h>

#include "detail/net_proto.h"

#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/crop.h>

#include <c10/util/Exception.h>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace fcnlab {
namespace caffe {
namespace {

using models::LayerSpec;
using models::NetSpec;

// Keeps the first error protobuf's text parser reports (0-based line and
// column).
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(
      int line,
      google::protobuf::io::ColumnNumber column,
      const std::string& message) override {
    if (message_.empty()) {
      line_ = line;
      column_ = column;
      message_ = message;
    }
  }
  std::string describe(const std::string& source) const {
    return source + ":" + std::to_string(line_ + 1) + ":" +
        std::to_string(column_ + 1) + ": syntax error: " + message_;
  }

 private:
  int line_ = 0;
  int column_ = 0;
  std::string message_;
};

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

} // namespace

NetSpec parse_prototxt(const std::string& text, const std::string& source) {
  ::caffe::NetParameter net;
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  google::protobuf::TextFormat::ParseInfoTree locations;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&locations);
  TORCH_CHECK(parser.ParseFromString(text, &net), errors.describe(source));
  TORCH_CHECK(
      net.layer_size() == 0 || net.layers_size() == 0,
      source,
      ": mixes V1 `layers` and V2 `layer` entries");

  const bool v1 = net.layers_size() > 0;
  const auto* field =
      net.GetDescriptor()->FindFieldByName(v1 ? "layers" : "layer");
  std::vector<::caffe::LayerParameter> layers;
  std::vector<int> lines;
  const int count = v1 ? net.layers_size() : net.layer_size();
  for (int i = 0; i < count; ++i) {
    layers.push_back(
        v1 ? detail::upgrade_v1_layer(net.layers(i)) : net.layer(i));
    lines.push_back(locations.GetLocation(field, i).line + 1);
  }

  NetSpec spec;
  spec.name = net.name();
  spec.source = source;
  std::vector<std::string> inputs(net.input().begin(), net.input().end());
  std::string label;
  bool has_loss = false;
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
      const auto& mean = layer.transform_param().mean_value();
      if (!mean.empty()) {
        spec.mean.assign(mean.begin(), mean.end());
      }
      continue;
    }
    if (type == "SoftmaxWithLoss") {
      TORCH_CHECK(
          layer.bottom_size() == 2,
          where,
          ": SoftmaxWithLoss takes 2 bottoms (scores, label), got ",
          layer.bottom_size());
      has_loss = true;
      spec.output = layer.bottom(0);
      label = layer.bottom(1);
      read_loss(layer, spec);
      continue;
    }
    if (type == "Accuracy") {
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

  std::string input;
  for (const auto& name : inputs) {
    if (name != label) {
      input = name;
      break;
    }
  }
  TORCH_CHECK(
      !input.empty(),
      source,
      ": no input: expected an Input or Data layer (or `input:`) for the "
      "image");
  spec.input = input;

  if (!has_loss) {
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

NetSpec read_prototxt(const std::string& path) {
  std::ifstream in(path);
  TORCH_CHECK(in.good(), "prototxt: cannot open ", path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_prototxt(text.str(), path);
}

NetSpec network_spec(const std::string& network, int64_t num_classes) {
  const auto names = models::builtin_net_names();
  if (std::find(names.begin(), names.end(), network) != names.end()) {
    return models::builtin_net(network, num_classes);
  }
  return read_prototxt(network);
}

std::string net_prototxt(const NetSpec& spec) {
  ::caffe::NetParameter net;
  net.set_name(spec.name);
  auto* input = detail::add_input_layer(net, spec.input);
  input->add_top("label");
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
