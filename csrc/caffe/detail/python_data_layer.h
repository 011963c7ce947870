#pragma once

#include "caffe.pb.h"

#include <string>
#include <vector>

namespace fcnlab {
namespace caffe {
namespace detail {

/// What a Python data layer (FCN's voc_layers.SBDDSegDataLayer and kin)
/// tells fcnlab: the mean its param_str gives, and everything else it says,
/// for summary. The data itself comes from fcnlab's own datasets.
struct PythonDataLayer {
  /// param_str's `mean`, B, G, R; empty without one.
  std::vector<double> mean;
  /// "data layer data: Python voc_layers.SBDDSegDataLayer, set aside:
  /// sbdd_dir='../data', seed=1337, split='train'".
  std::string note;
};

/// Reads `layer`, a Python layer. Throws c10::Error starting with `where`
/// for a Python layer with bottoms (fcnlab cannot run Python code), one
/// without tops, a param_str that is not a Python literal, or a `mean`
/// that is not one or three numbers.
PythonDataLayer read_python_data_layer(
    const ::caffe::LayerParameter& layer,
    const std::string& where);

} // namespace detail
} // namespace caffe
} // namespace fcnlab
