#include "detail/archive_files.h"

#include <c10/util/Exception.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace fcnlab {
namespace data {
namespace detail {

std::vector<std::string> parse_ids(
    const std::string& text,
    const std::string& archive,
    const std::string& list) {
  static const std::regex valid_id("^[A-Za-z0-9_.-]+$");
  std::vector<std::string> ids;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
      line.pop_back();
    }
    if (line.empty()) {
      continue;
    }
    TORCH_CHECK(
        std::regex_match(line, valid_id) && line != "." && line != "..",
        "archive ",
        archive,
        ": ",
        list,
        " lists '",
        line,
        "', which is not an image id");
    ids.push_back(line);
  }
  return ids;
}

const std::regex& voc_data_entry() {
  static const std::regex pattern(
      "(^|.*/)VOC20[0-9][0-9]/(JPEGImages|SegmentationClass)/([^/]+)\\.(jpg|png)$");
  return pattern;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  TORCH_CHECK(out.good(), "cannot write ", path, " (disk full?)");
}

} // namespace detail
} // namespace data
} // namespace fcnlab
