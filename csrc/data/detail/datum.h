#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace fcnlab {
namespace data {
namespace detail {

/// Caffe Datum bytes (as create_db writes them) for H x W x C uint8 pixels:
/// raw C x H x W bytes in Caffe's layout when `encoding` is empty,
/// otherwise an encoded image ("png", "jpg").
std::string encode_datum(const at::Tensor& hwc, const std::string& encoding);

/// H x W x C uint8 pixels of a serialized Caffe Datum, decoding it when it
/// is encoded (a label as a one-channel label). Throws c10::Error naming
/// `where` when the bytes are not a byte Datum or the sizes disagree.
at::Tensor decode_datum(
    const std::string& bytes,
    const std::string& where,
    bool label);

} // namespace detail
} // namespace data
} // namespace fcnlab
