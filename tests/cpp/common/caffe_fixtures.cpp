#include "caffe_fixtures.h"

#include "caffe.pb.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <stdexcept>

namespace fcnlab {
namespace testing {
namespace {

using V1 = ::caffe::V1LayerParameter;

void add_legacy_blob(V1* layer, const at::Tensor& tensor) {
  auto* blob = layer->add_blobs();
  // Legacy blobs are 4-D, right-aligned: (O, I) -> 1 x 1 x O x I.
  std::vector<int64_t> dims(4 - tensor.dim(), 1);
  for (const int64_t size : tensor.sizes()) {
    dims.push_back(size);
  }
  blob->set_num(static_cast<int32_t>(dims[0]));
  blob->set_channels(static_cast<int32_t>(dims[1]));
  blob->set_height(static_cast<int32_t>(dims[2]));
  blob->set_width(static_cast<int32_t>(dims[3]));
  const at::Tensor values = tensor.contiguous();
  const float* data = values.data_ptr<float>();
  blob->mutable_data()->Add(data, data + values.numel());
}

V1* add_layer(
    ::caffe::NetParameter& net,
    const std::string& name,
    V1::LayerType type,
    const std::string& bottom,
    const std::string& top) {
  auto* layer = net.add_layers();
  layer->set_name(name);
  layer->set_type(type);
  layer->add_bottom(bottom);
  layer->add_top(top);
  return layer;
}

// He-normal weights and small random biases of one learned layer.
std::vector<at::Tensor> random_layer(std::vector<int64_t> shape) {
  int64_t fan_in = 1;
  for (size_t i = 1; i < shape.size(); ++i) {
    fan_in *= shape[i];
  }
  auto weight = at::randn(shape) * std::sqrt(2.0 / fan_in);
  auto bias = at::randn({shape[0]}) * 0.01;
  return {weight, bias};
}

// A V1 deploy network's header: its name and a 4-D "data" input.
::caffe::NetParameter v1_net(const std::string& name, std::vector<int> dims) {
  ::caffe::NetParameter net;
  net.set_name(name);
  net.add_input("data");
  for (const int dim : dims) {
    net.add_input_dim(dim);
  }
  return net;
}

// A layer with its blobs from `blobs`, reading `bottom`; returns its top.
std::string add_learned(
    ::caffe::NetParameter& net,
    const AlexnetBlobs& blobs,
    const std::string& name,
    V1::LayerType type,
    const std::string& bottom) {
  auto* layer = add_layer(net, name, type, bottom, name);
  for (const auto& tensor : blobs.at(name)) {
    add_legacy_blob(layer, tensor);
  }
  return name;
}

void write_or_throw(const ::caffe::NetParameter& net, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  if (!net.SerializeToOstream(&out)) {
    throw std::runtime_error("cannot write " + path);
  }
}

} // namespace

AlexnetBlobs random_alexnet(uint64_t seed) {
  at::manual_seed(seed);
  const auto layer = random_layer;
  return {
      {"conv1", layer({96, 3, 11, 11})},
      {"conv2", layer({256, 48, 5, 5})},
      {"conv3", layer({384, 256, 3, 3})},
      {"conv4", layer({384, 192, 3, 3})},
      {"conv5", layer({256, 192, 3, 3})},
      {"fc6", layer({4096, 9216})},
      {"fc7", layer({4096, 4096})},
      {"fc8", layer({1000, 4096})},
  };
}

void write_alexnet_v1(const AlexnetBlobs& blobs, const std::string& path) {
  auto net = v1_net("CaffeNet", {10, 3, 227, 227});
  std::string bottom = "data";
  auto learned = [&](const std::string& name, V1::LayerType type) {
    bottom = add_learned(net, blobs, name, type, bottom);
  };
  auto pointwise = [&](const std::string& name, V1::LayerType type) {
    add_layer(net, name, type, bottom, bottom);
  };
  auto shaped = [&](const std::string& name, V1::LayerType type) {
    add_layer(net, name, type, bottom, name);
    bottom = name;
  };
  // AlexNet's order: conv -> relu -> norm -> pool.
  learned("conv1", V1::CONVOLUTION);
  pointwise("relu1", V1::RELU);
  shaped("norm1", V1::LRN);
  shaped("pool1", V1::POOLING);
  learned("conv2", V1::CONVOLUTION);
  pointwise("relu2", V1::RELU);
  shaped("norm2", V1::LRN);
  shaped("pool2", V1::POOLING);
  learned("conv3", V1::CONVOLUTION);
  pointwise("relu3", V1::RELU);
  learned("conv4", V1::CONVOLUTION);
  pointwise("relu4", V1::RELU);
  learned("conv5", V1::CONVOLUTION);
  pointwise("relu5", V1::RELU);
  shaped("pool5", V1::POOLING);
  learned("fc6", V1::INNER_PRODUCT);
  pointwise("relu6", V1::RELU);
  pointwise("drop6", V1::DROPOUT);
  learned("fc7", V1::INNER_PRODUCT);
  pointwise("relu7", V1::RELU);
  pointwise("drop7", V1::DROPOUT);
  learned("fc8", V1::INNER_PRODUCT);
  shaped("prob", V1::SOFTMAX);
  write_or_throw(net, path);
}

AlexnetBlobs random_vgg16(uint64_t seed) {
  at::manual_seed(seed);
  AlexnetBlobs blobs;
  int64_t in = 3;
  const int64_t widths[] = {64, 128, 256, 512, 512};
  const int depths[] = {2, 2, 3, 3, 3};
  for (int stage = 0; stage < 5; ++stage) {
    for (int i = 1; i <= depths[stage]; ++i) {
      blobs["conv" + std::to_string(stage + 1) + "_" + std::to_string(i)] =
          random_layer({widths[stage], in, 3, 3});
      in = widths[stage];
    }
  }
  blobs["fc6"] = random_layer({4096, 512 * 7 * 7});
  blobs["fc7"] = random_layer({4096, 4096});
  blobs["fc8"] = random_layer({1000, 4096});
  return blobs;
}

void write_vgg16_v1(const AlexnetBlobs& blobs, const std::string& path) {
  auto net = v1_net("VGG_ILSVRC_16_layers", {10, 3, 224, 224});
  std::string bottom = "data";
  auto learned = [&](const std::string& name, V1::LayerType type) {
    bottom = add_learned(net, blobs, name, type, bottom);
    const auto digits = name.find_first_of("0123456789");
    add_layer(net, "relu" + name.substr(digits), V1::RELU, bottom, bottom);
  };

  const int depths[] = {2, 2, 3, 3, 3};
  for (int stage = 1; stage <= 5; ++stage) {
    for (int i = 1; i <= depths[stage - 1]; ++i) {
      learned(
          "conv" + std::to_string(stage) + "_" + std::to_string(i),
          V1::CONVOLUTION);
    }
    const std::string pool = "pool" + std::to_string(stage);
    add_layer(net, pool, V1::POOLING, bottom, pool);
    bottom = pool;
  }
  learned("fc6", V1::INNER_PRODUCT);
  add_layer(net, "drop6", V1::DROPOUT, bottom, bottom);
  learned("fc7", V1::INNER_PRODUCT);
  add_layer(net, "drop7", V1::DROPOUT, bottom, bottom);
  add_learned(net, blobs, "fc8", V1::INNER_PRODUCT, bottom);
  add_layer(net, "prob", V1::SOFTMAX, "fc8", "prob");
  write_or_throw(net, path);
}

std::string error_message_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const c10::Error& error) {
    return error.what_without_backtrace();
  } catch (const std::exception& error) {
    return error.what();
  }
  return "(no exception)";
}

} // namespace testing
} // namespace fcnlab
