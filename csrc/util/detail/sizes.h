#pragma once

#include <c10/util/ArrayRef.h>

#include <cstdint>
#include <string>

namespace fcnlab {
namespace util {
namespace detail {

/// "96x3x11x11": sizes as messages and tables print them.
inline std::string join_sizes(c10::ArrayRef<int64_t> sizes) {
  std::string text;
  for (size_t i = 0; i < sizes.size(); ++i) {
    text += (i ? "x" : "") + std::to_string(sizes[i]);
  }
  return text;
}

} // namespace detail
} // namespace util
} // namespace fcnlab
