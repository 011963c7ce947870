#include <fcnlab/caffe/model_zoo.h>

#include <fcnlab/util/download.h>

#include <c10/util/Exception.h>

#include <filesystem>
#include <map>

namespace fcnlab {
namespace caffe {

const ZooModel& bvlc_alexnet() {
  static const ZooModel model{
      "bvlc_alexnet.caffemodel",
      "http://dl.caffe.berkeleyvision.org/bvlc_alexnet.caffemodel",
      "9116a64c0fbe4459d18f4bb6b56d647b63920377",
      "Alexnet trained on ImageNet ILSVRC 2012 (BVLC model zoo)"};
  return model;
}

const ZooModel& fcn_alexnet_pascal() {
  static const ZooModel model{
      "fcn-alexnet-pascal.caffemodel",
      "http://dl.caffe.berkeleyvision.org/fcn-alexnet-pascal.caffemodel",
      "",
      "FCN-Alexnet trained on PASCAL VOC 2011 (FCN reference)"};
  return model;
}

const ZooModel& vgg16() {
  static const ZooModel model{
      "VGG_ILSVRC_16_layers.caffemodel",
      "http://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/"
      "VGG_ILSVRC_16_layers.caffemodel",
      "",
      "VGG16 trained on ImageNet ILSVRC 2012 (Oxford VGG)"};
  return model;
}

const ZooModel& fcn_pascal(const std::string& network) {
  static const std::map<std::string, ZooModel> models = [] {
    std::map<std::string, ZooModel> all;
    for (const auto& [name, file] :
         std::map<std::string, std::string>{
             {"fcn32s", "fcn32s-heavy-pascal"},
             {"fcn16s", "fcn16s-heavy-pascal"},
             {"fcn8s", "fcn8s-heavy-pascal"},
             {"fcn8s_atonce", "fcn8s-atonce-pascal"}}) {
      all[name] = ZooModel{
          file + ".caffemodel",
          "http://dl.caffe.berkeleyvision.org/" + file + ".caffemodel",
          "",
          name + " trained on PASCAL VOC (FCN reference)"};
    }
    all["fcn_alexnet"] = fcn_alexnet_pascal();
    return all;
  }();
  const auto it = models.find(network);
  TORCH_CHECK_VALUE(
      it != models.end(),
      "no published PASCAL model for '",
      network,
      "'; there are fcn_alexnet, fcn32s, fcn16s, fcn8s, fcn8s_atonce");
  return it->second;
}

const ZooModel& imagenet_classifier(const std::string& network) {
  if (network == "fcn_alexnet") {
    return bvlc_alexnet();
  }
  TORCH_CHECK_VALUE(
      network == "fcn32s" || network == "fcn16s" || network == "fcn8s" ||
          network == "fcn8s_atonce",
      "no ImageNet classifier is known for network '",
      network,
      "' (fcn_alexnet: bvlc_alexnet; the VGG16 FCNs: VGG16)");
  return vgg16();
}

std::string fetch(const ZooModel& model, const std::string& cache_dir) {
  const std::filesystem::path dir =
      cache_dir.empty() ? util::default_cache_dir() : cache_dir;
  std::filesystem::create_directories(dir);
  const std::string path = (dir / model.file_name).string();
  if (std::filesystem::exists(path) &&
      (model.sha1.empty() || util::sha1_file(path) == model.sha1)) {
    return path;
  }
  util::download(model.url, path, model.sha1);
  return path;
}

} // namespace caffe
} // namespace fcnlab
