#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fcnlab {
namespace caffe {

/// A Caffe blob: its shape and float values in row-major order.
struct Blob {
  /// Shape as stored: BlobShape dims, or (num, channels, height, width) for
  /// legacy blobs (an InnerProduct weight is then 1 x 1 x M x K).
  std::vector<int64_t> shape;
  std::vector<float> data;

  /// Product of the shape (1 for an empty shape).
  int64_t count() const;
  /// "96x3x11x11".
  std::string shape_string() const;
};

/// A layer with its learned blobs (Caffe order: [0] weights, [1] bias).
struct Layer {
  std::string name;
  /// The V2 type string ("Convolution", "InnerProduct", ...); V1 enum types
  /// are translated to it.
  std::string type;
  std::vector<std::string> bottoms;
  std::vector<std::string> tops;
  std::vector<Blob> blobs;
};

/// The weights-relevant content of a `.caffemodel` (a caffe.NetParameter).
struct Net {
  std::string name;
  std::vector<Layer> layers;
  /// True when the file used the pre-2015 V1 `layers` field.
  bool legacy_layers = false;
};

/// Reads a binary `.caffemodel` in the V1 (`layers`, enum types, legacy 4-D
/// dims) or V2 (`layer`, BlobShape) layout, packed or unpacked, with float or
/// double data. Files of any size up to 2 GiB are accepted.
/// Throws c10::Error naming the file and the problem: missing file, not a
/// binary caffemodel, truncated field (with its byte offset), a blob whose
/// value count disagrees with its shape, or a network without layers.
Net read_caffemodel(const std::string& path);

/// Writes `net` as a V2 caffemodel (layer + BlobShape, packed floats),
/// atomically. Throws c10::Error when the file cannot be written or a blob's
/// value count disagrees with its shape.
void write_caffemodel(const Net& net, const std::string& path);

} // namespace caffe
} // namespace fcnlab
