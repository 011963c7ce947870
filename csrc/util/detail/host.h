#pragma once

#include <string>

#include <unistd.h>

namespace fcnlab {
namespace util {
namespace detail {

/// This machine's name ("" where the system gives none): a run record says
/// where its process runs, and the dashboard asks whether that is here.
inline std::string host_name() {
  char name[256] = {};
  return gethostname(name, sizeof(name) - 1) == 0 ? name : "";
}

} // namespace detail
} // namespace util
} // namespace fcnlab
