#pragma once

#include "caffe.pb.h"

#include <string>

namespace fcnlab {
namespace caffe {
namespace detail {

/// Parses a binary NetParameter, with errors that name `path`, the problem
/// and, for wire-format damage, the byte offset.
::caffe::NetParameter parse_net_parameter(const std::string& path);

/// Serializes `message` to `path` atomically.
void write_message(
    const google::protobuf::Message& message,
    const std::string& path);

/// Fills a BlobProto (BlobShape + packed data) from a shape and values.
void fill_blob(
    ::caffe::BlobProto* blob,
    const std::vector<int64_t>& shape,
    const float* data,
    int64_t count);

} // namespace detail
} // namespace caffe
} // namespace fcnlab
