#pragma once

#include <fcnlab/caffe/importer.h>
#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/convolutionalize.h>
#include <fcnlab/models/net_spec.h>

#include <optional>
#include <string>

namespace fcnlab {
namespace caffe {

struct ConvolutionalizeFiles {
  /// The classifier's prototxt (deploy or train_val).
  std::string classifier;
  /// Where the FCN's prototxt goes (train style: Input, layers, loss).
  std::string fcn;
  /// The classifier's caffemodel; empty: write no weights.
  std::string weights;
  /// Where the FCN's caffemodel goes; empty: beside `fcn`, with the
  /// extension .caffemodel.
  std::string out_weights;
};

struct ConvolutionalizeResult {
  models::NetSpec fcn;
  /// Where the weights went, and how each layer got its weights (the
  /// surgery's report), when weights were given.
  std::string out_weights;
  std::optional<ImportReport> report;
};

/// models::convolutionalize() from files to files: reads the classifier's
/// prototxt (with `prototxt` options: a train_val's loss layer), writes the
/// FCN's prototxt and, given the classifier's caffemodel, the FCN's: its
/// convolutions copied, the InnerProduct blobs reshaped into their
/// kernels, score_fr zero and upscore bilinear, as `fcnlab surgery` gives.
/// Both files are written atomically.
ConvolutionalizeResult convolutionalize_files(
    const ConvolutionalizeFiles& files,
    const models::ConvolutionalizeOptions& options = {},
    const PrototxtOptions& prototxt = {});

} // namespace caffe
} // namespace fcnlab
