#include <fcnlab/caffe/network.h>

#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/fcn_alexnet.h>

namespace fcnlab {
namespace caffe {
namespace {

constexpr const char* kFcnAlexnet = "fcn_alexnet";

} // namespace

models::NetSpec network_spec(
    const std::string& network,
    const models::FcnAlexNetOptions& options,
    const PrototxtOptions& prototxt) {
  if (network == kFcnAlexnet) {
    return models::fcn_alexnet_spec(options);
  }
  return network_spec(network, options.num_classes(), prototxt);
}

models::FcnNet build_network(
    const std::string& network,
    const models::FcnAlexNetOptions& options,
    const PrototxtOptions& prototxt) {
  if (network == kFcnAlexnet) {
    return models::FcnAlexNet(options);
  }
  return models::FcnNet(network_spec(network, options, prototxt));
}

} // namespace caffe
} // namespace fcnlab
