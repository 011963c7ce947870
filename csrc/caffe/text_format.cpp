#include "detail/text_format.h"

#include <c10/util/Exception.h>

#include <google/protobuf/io/tokenizer.h>

namespace fcnlab {
namespace caffe {
namespace detail {
namespace {

// Keeps the first error protobuf's text parser reports (0-based line and
// column).
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(
      int line,
      google::protobuf::io::ColumnNumber column,
      const std::string& message) override {
    if (message_.empty()) {
      line_ = line;
      column_ = column;
      message_ = message;
    }
  }
  std::string describe(const std::string& source) const {
    return source + ":" + std::to_string(line_ + 1) + ":" +
        std::to_string(column_ + 1) + ": syntax error: " + message_;
  }

 private:
  int line_ = 0;
  int column_ = 0;
  std::string message_;
};

} // namespace

void parse_text(
    const std::string& text,
    const std::string& source,
    google::protobuf::Message& message,
    google::protobuf::TextFormat::ParseInfoTree* locations) {
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  if (locations != nullptr) {
    parser.WriteLocationsTo(locations);
  }
  TORCH_CHECK(parser.ParseFromString(text, &message), errors.describe(source));
}

} // namespace detail
} // namespace caffe
} // namespace fcnlab
