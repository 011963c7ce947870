#include <fcnlab/caffe/exporter.h>

#include "detail/net_proto.h"
#include "detail/proto_io.h"

#include <fcnlab/models/summary.h>
#include <fcnlab/util/atomic_file.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <google/protobuf/text_format.h>

#include <filesystem>
#include <system_error>
#include <tuple>

namespace fcnlab {
namespace caffe {
namespace {

void add_blob(::caffe::LayerParameter* layer, const at::Tensor& tensor) {
  const at::Tensor values =
      tensor.detach().to(at::kCPU, at::kFloat).contiguous();
  const auto sizes = values.sizes();
  detail::fill_blob(
      layer->add_blobs(),
      std::vector<int64_t>(sizes.begin(), sizes.end()),
      values.data_ptr<float>(),
      values.numel());
}

// The mean subtraction as Caffe layers: Power for one value, a 1x1
// convolution for per-channel means (its blobs are fixed values).
void describe_mean(
    ::caffe::LayerParameter* out,
    const std::vector<double>& mean,
    const std::string& bottom,
    const std::string& top,
    bool with_blobs) {
  out->set_name("mean");
  out->add_bottom(bottom);
  out->add_top(top);
  if (mean.size() == 1) {
    out->set_type("Power");
    out->mutable_power_param()->set_shift(static_cast<float>(-mean[0]));
    return;
  }
  out->set_type("Convolution");
  auto* param = out->mutable_convolution_param();
  param->set_num_output(3);
  param->add_kernel_size(1);
  if (with_blobs) {
    add_blob(out, at::eye(3).view({3, 3, 1, 1}));
    add_blob(out, -at::tensor(mean, at::kDouble));
  }
}

// Layers that read whole planes count their inputs at the declared size:
// a deploy file of another size would describe other weights.
void check_same_inputs(
    const models::NetSpec& spec,
    int64_t height,
    int64_t width) {
  models::NetSpec resized = spec;
  resized.input_height = height;
  resized.input_width = width;
  const auto declared = models::infer_channels(spec).layer_inputs;
  const auto asked = models::infer_channels(resized).layer_inputs;
  for (size_t i = 0; i < declared.size(); ++i) {
    TORCH_CHECK_VALUE(
        declared[i] == asked[i],
        spec.where(spec.layers[i]),
        " takes ",
        declared[i],
        " values per image at the declared input ",
        spec.input_height,
        "x",
        spec.input_width,
        ", and ",
        asked[i],
        " at ",
        height,
        "x",
        width,
        "; write its deploy file at the declared size");
  }
}

::caffe::NetParameter build_net(
    const models::NetSpec& spec,
    int64_t height,
    int64_t width,
    const models::FcnNetImpl* weights) {
  if (height == 0 && width == 0) {
    std::tie(height, width) = models::default_input_size(spec);
  }
  TORCH_CHECK_VALUE(
      height >= 1 && width >= 1,
      "deploy input must be at least 1x1, got ",
      height,
      "x",
      width);
  check_same_inputs(spec, height, width);
  ::caffe::NetParameter net;
  net.set_name(spec.name);
  auto* input = detail::add_input_layer(net, spec.input);
  auto* shape = input->mutable_input_param()->add_shape();
  for (const int64_t dim : {int64_t{1}, int64_t{3}, height, width}) {
    shape->add_dim(dim);
  }
  // Readers feed the image under the input's name; the layers read it
  // centred.
  const std::string centred =
      spec.mean.empty() ? spec.input : spec.input + "_centred";
  if (!spec.mean.empty()) {
    describe_mean(
        net.add_layer(), spec.mean, spec.input, centred, weights != nullptr);
  }

  const auto children = weights ? weights->named_children()
                                : decltype(weights->named_children()){};
  for (const auto& layer : spec.layers) {
    auto* out = net.add_layer();
    detail::describe_layer(layer, out);
    for (auto& bottom : *out->mutable_bottom()) {
      if (bottom == spec.input) {
        bottom = centred;
      }
    }
    if (weights && children.contains(layer.name)) {
      for (const auto& parameter :
           children[layer.name]->parameters(/*recurse=*/false)) {
        if (parameter.defined()) {
          add_blob(out, parameter);
        }
      }
    }
  }
  return net;
}

// A classifier's fully connected layers, written as convolutions by
// build_net, in the InnerProduct form of the ImageNet caffemodels.
::caffe::NetParameter classifier_net(
    const models::NetSpec& spec,
    int64_t side,
    const models::FcnNetImpl* weights) {
  ::caffe::NetParameter net = build_net(spec, side, side, weights);
  for (auto& layer : *net.mutable_layer()) {
    if (layer.type() != "Convolution" || layer.name().rfind("fc", 0) != 0) {
      continue;
    }
    const auto outputs = layer.convolution_param().num_output();
    layer.set_type("InnerProduct");
    layer.clear_convolution_param();
    layer.mutable_inner_product_param()->set_num_output(outputs);
    if (layer.blobs_size() > 0) {
      auto* shape = layer.mutable_blobs(0)->mutable_shape();
      int64_t count = 1;
      for (const auto dim : shape->dim()) {
        count *= dim;
      }
      shape->clear_dim();
      shape->add_dim(outputs);
      shape->add_dim(count / outputs);
    }
  }
  return net;
}

std::string text_of(const ::caffe::NetParameter& net) {
  std::string text;
  TORCH_CHECK(
      google::protobuf::TextFormat::PrintToString(net, &text),
      "cannot format the deploy prototxt");
  return text;
}

} // namespace

std::string deploy_prototxt(
    const models::NetSpec& spec,
    int64_t height,
    int64_t width) {
  return text_of(build_net(spec, height, width, nullptr));
}

std::string deploy_prototxt(
    const models::FcnAlexNetOptions& options,
    int64_t height,
    int64_t width) {
  return deploy_prototxt(models::fcn_alexnet_spec(options), height, width);
}

void write_deploy_prototxt(
    const models::NetSpec& spec,
    const std::string& path,
    int64_t height,
    int64_t width) {
  util::write_file_atomically(path, deploy_prototxt(spec, height, width));
}

void save_caffemodel(const models::FcnNet& model, const std::string& path) {
  // Readers of the weights need the declared size only for layers that
  // read whole planes.
  detail::write_message(build_net(model->spec(), 0, 0, model.get()), path);
}

CaffeExport export_caffe(
    const models::FcnNet& model,
    const std::string& caffemodel,
    int64_t height,
    int64_t width) {
  const std::filesystem::path weights(caffemodel);
  TORCH_CHECK_VALUE(
      weights.extension() == ".caffemodel",
      caffemodel,
      ": a Caffe export is a .caffemodel (with its deploy .prototxt beside "
      "it)");
  const auto prototxt =
      std::filesystem::path(weights).replace_extension(".prototxt").string();
  // Made first: a size the network cannot take fails before any file.
  const auto description = deploy_prototxt(model->spec(), height, width);
  save_caffemodel(model, caffemodel);
  try {
    util::write_file_atomically(prototxt, description);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(weights, ignored);
    throw;
  }
  return {caffemodel, prototxt};
}

std::string classifier_deploy_prototxt(
    const models::NetSpec& spec,
    int64_t side) {
  return text_of(classifier_net(spec, side, nullptr));
}

void save_classifier_caffemodel(
    const models::FcnNet& model,
    const std::string& path) {
  detail::write_message(
      classifier_net(model->spec(), models::kAlexnetInputSide, model.get()),
      path);
}

std::string classifier_caffemodel_path(const std::string& dir) {
  return (std::filesystem::path(dir) / "alexnet.caffemodel").string();
}

std::string export_classifier(
    const models::FcnNet& classifier,
    const std::string& dir) {
  std::filesystem::create_directories(dir);
  const auto weights = classifier_caffemodel_path(dir);
  save_classifier_caffemodel(classifier, weights);
  util::write_file_atomically(
      (std::filesystem::path(dir) / "alexnet_deploy.prototxt").string(),
      classifier_deploy_prototxt(classifier->spec()));
  return weights;
}

} // namespace caffe
} // namespace fcnlab
