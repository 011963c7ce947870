#pragma once

#include <fcnlab/models/net_spec.h>

#include "caffe.pb.h"

#include <cstdint>

namespace fcnlab {
namespace models {
namespace layers {

/// Caffe's FillerParameter as a Filler, and back (defaults left out).
Filler read_filler(const ::caffe::FillerParameter& proto);
void write_filler(const Filler& filler, ::caffe::FillerParameter* out);

/// A ConvolutionParameter's window: *_h/*_w when given, else one repeated
/// value for both axes or one per axis, else the default.
Window read_convolution_window(const ::caffe::ConvolutionParameter& p);
void write_convolution_window(
    const Window& w,
    ::caffe::ConvolutionParameter* p);

/// A PoolingParameter's window (single values, or *_h/*_w).
/// Throws c10::Error starting with `where` unless the window's strides and
/// dilations are at least 1 (a stride of 0 would divide by zero).
void check_steps(const Window& window, const std::string& where);

Window read_pooling_window(const ::caffe::PoolingParameter& p);
void write_pooling_window(const Window& w, ::caffe::PoolingParameter* p);

/// An axis of a 4-D blob; Caffe counts negative ones from the end.
int64_t blob_axis(int64_t axis);

} // namespace layers
} // namespace models
} // namespace fcnlab
