#include <fcnlab/caffe/convolutionalize.h>

#include <fcnlab/caffe/exporter.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/util/atomic_file.h>

#include <filesystem>

namespace fcnlab {
namespace caffe {

ConvolutionalizeResult convolutionalize_files(
    const ConvolutionalizeFiles& files,
    const models::ConvolutionalizeOptions& options,
    const PrototxtOptions& prototxt) {
  ConvolutionalizeResult result;
  result.fcn = models::convolutionalize(
      read_prototxt(files.classifier, prototxt), options);
  util::write_file_atomically(files.fcn, net_prototxt(result.fcn));
  if (files.weights.empty()) {
    return result;
  }
  models::FcnNet model(result.fcn);
  result.report = load_caffemodel(model, files.weights);
  result.out_weights = !files.out_weights.empty()
      ? files.out_weights
      : std::filesystem::path(files.fcn)
            .replace_extension(".caffemodel")
            .string();
  save_caffemodel(model, result.out_weights);
  return result;
}

} // namespace caffe
} // namespace fcnlab
