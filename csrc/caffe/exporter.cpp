#include <fcnlab/caffe/exporter.h>

#include "detail/proto_io.h"

#include <fcnlab/util/atomic_file.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <google/protobuf/text_format.h>

namespace fcnlab {
namespace caffe {
namespace {

using models::FcnAlexNetLayer;
using models::LayerType;

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

void describe_convolution(
    ::caffe::LayerParameter* out,
    const FcnAlexNetLayer& layer) {
  auto* param = out->mutable_convolution_param();
  param->set_num_output(static_cast<uint32_t>(layer.out_channels));
  param->add_kernel_size(static_cast<uint32_t>(layer.kernel));
  if (layer.stride != 1) {
    param->add_stride(static_cast<uint32_t>(layer.stride));
  }
  if (layer.pad != 0) {
    param->add_pad(static_cast<uint32_t>(layer.pad));
  }
  if (layer.groups != 1) {
    param->set_group(static_cast<uint32_t>(layer.groups));
  }
  if (!layer.bias) {
    param->set_bias_term(false);
  }
}

// The shift as Caffe layers: Power for one value, a 1x1 convolution for
// per-channel means.
void describe_shift(
    ::caffe::LayerParameter* out,
    const std::vector<double>& mean,
    bool with_blobs) {
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

::caffe::NetParameter build_net(
    const models::FcnAlexNetOptions& options,
    int64_t height,
    int64_t width,
    const models::FcnAlexNetImpl* weights) {
  TORCH_CHECK_VALUE(
      height >= 1 && width >= 1,
      "deploy input must be at least 1x1, got ",
      height,
      "x",
      width);
  ::caffe::NetParameter net;
  net.set_name("FCN-Alexnet");
  auto* input = net.add_layer();
  input->set_name("input");
  input->set_type("Input");
  input->add_top("data");
  auto* shape = input->mutable_input_param()->add_shape();
  for (const int64_t dim : {int64_t{1}, int64_t{3}, height, width}) {
    shape->add_dim(dim);
  }

  const auto layers = weights ? weights->layers() : fcn_alexnet_layers(options);
  const int64_t crop_offset = models::crop_offset(layers);
  const auto children = weights ? weights->named_children()
                                : decltype(weights->named_children()){};
  for (const auto& layer : layers) {
    auto* out = net.add_layer();
    out->set_name(layer.name);
    out->set_type(models::caffe_type_name(layer.type));
    out->add_bottom(layer.bottom);
    out->add_top(layer.top);
    switch (layer.type) {
      case LayerType::kPower:
        describe_shift(out, options.mean(), weights != nullptr);
        break;
      case LayerType::kConvolution:
      case LayerType::kDeconvolution:
        describe_convolution(out, layer);
        if (weights) {
          for (const auto& parameter :
               children[layer.name]->parameters(/*recurse=*/false)) {
            if (parameter.defined()) {
              add_blob(out, parameter);
            }
          }
        }
        break;
      case LayerType::kPooling: {
        auto* param = out->mutable_pooling_param();
        param->set_pool(::caffe::PoolingParameter::MAX);
        param->set_kernel_size(static_cast<uint32_t>(layer.kernel));
        param->set_stride(static_cast<uint32_t>(layer.stride));
        break;
      }
      case LayerType::kLRN: {
        auto* param = out->mutable_lrn_param();
        param->set_local_size(models::kLrnSize);
        param->set_alpha(static_cast<float>(models::kLrnAlpha));
        param->set_beta(static_cast<float>(models::kLrnBeta));
        param->set_k(static_cast<float>(models::kLrnK));
        break;
      }
      case LayerType::kDropout:
        out->mutable_dropout_param()->set_dropout_ratio(
            static_cast<float>(options.dropout()));
        break;
      case LayerType::kCrop: {
        // Crop takes its reference size from the input image.
        out->add_bottom("data");
        auto* param = out->mutable_crop_param();
        param->set_axis(2);
        param->add_offset(static_cast<uint32_t>(crop_offset));
        break;
      }
      case LayerType::kReLU:
        break;
    }
  }
  return net;
}

} // namespace

std::string deploy_prototxt(
    const models::FcnAlexNetOptions& options,
    int64_t height,
    int64_t width) {
  std::string text;
  TORCH_CHECK(
      google::protobuf::TextFormat::PrintToString(
          build_net(options, height, width, nullptr), &text),
      "cannot format the deploy prototxt");
  return text;
}

void write_deploy_prototxt(
    const models::FcnAlexNetOptions& options,
    const std::string& path,
    int64_t height,
    int64_t width) {
  util::write_file_atomically(path, deploy_prototxt(options, height, width));
}

void save_caffemodel(const models::FcnAlexNet& model, const std::string& path) {
  // The Input layer's size does not matter to readers of the weights.
  detail::write_message(build_net(model->options, 500, 500, model.get()), path);
}

} // namespace caffe
} // namespace fcnlab
