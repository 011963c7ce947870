#pragma once

#include <string>

namespace fcnlab {
namespace caffe {

/// A published Caffe model file.
struct ZooModel {
  std::string file_name;
  std::string url;
  std::string sha1; ///< empty when the publisher gives none
  std::string description;
};

/// bvlc_alexnet.caffemodel: Alexnet trained on ImageNet (BVLC model zoo),
/// the starting point of FCN-Alexnet's net surgery. V1 layout, ~233 MiB.
const ZooModel& bvlc_alexnet();

/// fcn-alexnet-pascal.caffemodel: the FCN reference's FCN-Alexnet trained on
/// PASCAL VOC (V2 layout; no published SHA1).
const ZooModel& fcn_alexnet_pascal();

/// VGG_ILSVRC_16_layers.caffemodel: VGG16 trained on ImageNet (Oxford VGG),
/// the starting point of fcn32s and fcn8s_atonce (no published SHA1).
const ZooModel& vgg16();

/// The FCN reference's PASCAL VOC models: "fcn32s", "fcn16s", "fcn8s",
/// "fcn8s_atonce" or "fcn_alexnet" (no published SHA1s). Throws
/// c10::ValueError for another name.
const ZooModel& fcn_pascal(const std::string& network);

/// The ImageNet classifier whose surgery starts `network`: bvlc_alexnet for
/// fcn_alexnet, VGG16 for the VGG16 FCNs. Throws c10::ValueError for a
/// network without one.
const ZooModel& imagenet_classifier(const std::string& network);

/// Returns the path of `model` in `cache_dir` (default: the fcnlab cache),
/// downloading and checking it first when it is missing or its SHA1 is
/// wrong. Throws c10::Error with the URL and reason when offline.
std::string fetch(const ZooModel& model, const std::string& cache_dir = "");

} // namespace caffe
} // namespace fcnlab
