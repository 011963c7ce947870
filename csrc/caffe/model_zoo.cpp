#include <fcnlab/caffe/model_zoo.h>

#include <fcnlab/util/download.h>

#include <filesystem>

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
