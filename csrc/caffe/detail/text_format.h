#pragma once

#include "caffe.pb.h"

#include <google/protobuf/text_format.h>

#include <string>

namespace fcnlab {
namespace caffe {
namespace detail {

/// Parses protobuf's text format into `message`, recording where each field
/// stands in `locations` when given. Throws c10::Error "SOURCE:LINE:COLUMN:
/// syntax error: ..." with the first error protobuf reports.
void parse_text(
    const std::string& text,
    const std::string& source,
    google::protobuf::Message& message,
    google::protobuf::TextFormat::ParseInfoTree* locations = nullptr);

} // namespace detail
} // namespace caffe
} // namespace fcnlab
