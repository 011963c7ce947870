#pragma once

#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/models/net_spec.h>

#include <string>

namespace fcnlab {
namespace caffe {

/// The network named by a user (network_spec() in prototxt.h), with
/// `options` giving the classes of a built-in network and, for
/// "fcn_alexnet", its mean and dropout. A prototxt has its own classes and
/// is read with `prototxt`.
models::NetSpec network_spec(
    const std::string& network,
    const models::FcnAlexNetOptions& options,
    const PrototxtOptions& prototxt = {});

/// A new network of network_spec(network, options): an FcnAlexNet for
/// "fcn_alexnet", so that it is saved and reloaded as one (with its mean and
/// dropout), an FcnNet otherwise. What the CLI's --network and Python's
/// FcnNet(network) build.
models::FcnNet build_network(
    const std::string& network,
    const models::FcnAlexNetOptions& options = {},
    const PrototxtOptions& prototxt = {});

} // namespace caffe
} // namespace fcnlab
