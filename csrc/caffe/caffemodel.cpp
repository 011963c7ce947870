#include <fcnlab/caffe/caffemodel.h>

#include "../util/detail/sizes.h"
#include "detail/legacy_layers.h"
#include "detail/proto_io.h"

#include <fcnlab/util/atomic_file.h>

#include <c10/util/Exception.h>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <climits>

namespace fcnlab {
namespace caffe {
namespace {

using google::protobuf::internal::WireFormatLite;

// Walks the top-level fields so that damage is reported with its byte
// offset; protobuf's own parser only says that parsing failed.
void check_wire_format(const std::string& bytes, const std::string& path) {
  TORCH_CHECK(
      bytes.size() < static_cast<size_t>(INT_MAX),
      "caffemodel: ",
      path,
      " is ",
      bytes.size(),
      " bytes; protobuf reads at most 2 GiB");
  google::protobuf::io::CodedInputStream input(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      static_cast<int>(bytes.size()));
  input.SetTotalBytesLimit(INT_MAX);
  const int size = static_cast<int>(bytes.size());
  while (input.CurrentPosition() < size) {
    const int start = input.CurrentPosition();
    const uint32_t tag = input.ReadTag();
    const int wire_type = static_cast<int>(tag & 7);
    const bool valid_wire_type = wire_type == WireFormatLite::WIRETYPE_VARINT ||
        wire_type == WireFormatLite::WIRETYPE_FIXED64 ||
        wire_type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED ||
        wire_type == WireFormatLite::WIRETYPE_FIXED32;
    TORCH_CHECK(
        tag != 0 && (tag >> 3) != 0 && valid_wire_type,
        "caffemodel: ",
        path,
        " is not a binary caffemodel: no protobuf field starts at byte ",
        start,
        start == 0 ? " (a text .prototxt holds no weights)" : "");
    TORCH_CHECK(
        WireFormatLite::SkipField(&input, tag),
        "caffemodel: ",
        path,
        ": truncated field ",
        tag >> 3,
        " at byte ",
        start,
        " (the file has ",
        size,
        " bytes; an interrupted download?)");
  }
}

Blob convert_blob(
    const ::caffe::BlobProto& proto,
    const std::string& path,
    const std::string& layer,
    int index) {
  // The shape is checked against the stored values before anything is
  // allocated: a damaged file may declare any shape.
  const int64_t stored = std::max(proto.data_size(), proto.double_data_size());
  Blob blob;
  if (proto.has_shape()) {
    blob.shape.assign(proto.shape().dim().begin(), proto.shape().dim().end());
  } else if (
      proto.has_num() || proto.has_channels() || proto.has_height() ||
      proto.has_width()) {
    blob.shape = {proto.num(), proto.channels(), proto.height(), proto.width()};
  } else {
    blob.shape = {stored};
  }
  const bool negative = std::any_of(
      blob.shape.begin(), blob.shape.end(), [](int64_t d) { return d < 0; });
  int64_t count = 1;
  bool overflow = false;
  for (const int64_t dim : blob.shape) {
    overflow = overflow || __builtin_mul_overflow(count, dim, &count);
  }
  TORCH_CHECK(
      !negative && !overflow && count == stored,
      "caffemodel: ",
      path,
      ": layer ",
      layer,
      " blob ",
      index,
      " holds ",
      stored,
      " values but its shape ",
      blob.shape_string(),
      negative       ? std::string(" has a negative dimension")
          : overflow ? " needs more than 2^63"
                     : " needs " + std::to_string(count));
  if (proto.data_size() > 0) {
    blob.data.assign(proto.data().begin(), proto.data().end());
  } else {
    blob.data.assign(proto.double_data().begin(), proto.double_data().end());
  }
  return blob;
}

template <typename LayerProto>
Layer convert_layer(
    const LayerProto& proto,
    std::string type,
    const std::string& path) {
  Layer layer;
  layer.name = proto.name();
  layer.type = std::move(type);
  layer.bottoms.assign(proto.bottom().begin(), proto.bottom().end());
  layer.tops.assign(proto.top().begin(), proto.top().end());
  for (int i = 0; i < proto.blobs_size(); ++i) {
    layer.blobs.push_back(convert_blob(proto.blobs(i), path, layer.name, i));
  }
  return layer;
}

} // namespace

int64_t Blob::count() const {
  int64_t count = 1;
  for (const int64_t dim : shape) {
    count *= dim;
  }
  return count;
}

std::string Blob::shape_string() const {
  return util::detail::join_sizes(shape);
}

namespace detail {

::caffe::NetParameter parse_net_parameter(const std::string& path) {
  const std::string bytes = util::read_file(path, "caffemodel");
  TORCH_CHECK(!bytes.empty(), "caffemodel: ", path, " is empty");
  check_wire_format(bytes, path);
  google::protobuf::io::CodedInputStream input(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      static_cast<int>(bytes.size()));
  // bvlc_alexnet alone is ~233 MiB; older protobufs stop at 64 MiB.
  input.SetTotalBytesLimit(INT_MAX);
  ::caffe::NetParameter net;
  TORCH_CHECK(
      net.ParseFromCodedStream(&input) && input.ConsumedEntireMessage(),
      "caffemodel: ",
      path,
      " is not a Caffe NetParameter (a field has the wrong type)");
  return net;
}

void write_message(
    const google::protobuf::Message& message,
    const std::string& path) {
  std::string bytes;
  TORCH_CHECK(
      message.SerializeToString(&bytes),
      "cannot serialize ",
      path,
      " (over 2 GiB?)");
  util::write_file_atomically(path, bytes);
}

void fill_blob(
    ::caffe::BlobProto* blob,
    const std::vector<int64_t>& shape,
    const float* data,
    int64_t count) {
  for (const int64_t dim : shape) {
    blob->mutable_shape()->add_dim(dim);
  }
  blob->mutable_data()->Add(data, data + count);
}

} // namespace detail

Net read_caffemodel(const std::string& path) {
  const ::caffe::NetParameter proto = detail::parse_net_parameter(path);
  Net net;
  net.name = proto.name();
  net.legacy_layers = proto.layers_size() > 0;
  TORCH_CHECK(
      proto.layer_size() == 0 || proto.layers_size() == 0,
      "caffemodel: ",
      path,
      " mixes V1 `layers` and V2 `layer` entries");
  for (const auto& layer : proto.layer()) {
    net.layers.push_back(convert_layer(layer, layer.type(), path));
  }
  for (const auto& layer : detail::upgrade_v0_layers(proto.layers(), path)) {
    net.layers.push_back(
        convert_layer(layer, detail::v1_type_name(layer.type()), path));
  }
  TORCH_CHECK(
      !net.layers.empty(),
      "caffemodel: ",
      path,
      " holds no layers (an empty network, or not a caffemodel)");
  return net;
}

void write_caffemodel(const Net& net, const std::string& path) {
  ::caffe::NetParameter proto;
  proto.set_name(net.name);
  for (const auto& layer : net.layers) {
    auto* out = proto.add_layer();
    out->set_name(layer.name);
    out->set_type(layer.type);
    for (const auto& bottom : layer.bottoms) {
      out->add_bottom(bottom);
    }
    for (const auto& top : layer.tops) {
      out->add_top(top);
    }
    for (const auto& blob : layer.blobs) {
      TORCH_CHECK_VALUE(
          static_cast<int64_t>(blob.data.size()) == blob.count(),
          "cannot write ",
          path,
          ": layer ",
          layer.name,
          " has a blob of shape ",
          blob.shape_string(),
          " with ",
          blob.data.size(),
          " values");
      detail::fill_blob(
          out->add_blobs(), blob.shape, blob.data.data(), blob.count());
    }
  }
  detail::write_message(proto, path);
}

} // namespace caffe
} // namespace fcnlab
