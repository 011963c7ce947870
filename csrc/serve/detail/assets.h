#pragma once
// The dashboard's pages, scripts and vendored libraries, compiled into the
// program (cmake/embed_files.cmake writes their table), so that serving
// needs no files beside the binary and no internet.

#include <cstddef>
#include <string>

namespace fcnlab {
namespace serve {
namespace detail {

struct Asset {
  const char* path; ///< relative to csrc/serve/assets/
  const unsigned char* data;
  size_t size;
};

/// The asset at `path`, or nullptr.
const Asset* find_asset(const std::string& path);

/// The Content-Type for a file name's extension.
std::string content_type_for(const std::string& name);

} // namespace detail
} // namespace serve
} // namespace fcnlab
