#pragma once

// Shared by the fuzz harnesses: the input as a file (most readers take
// paths, as users call them) and the rule that a reader refuses bad input
// with a c10::Error. Any other exception escapes and libFuzzer reports it,
// like a crash, a leak or an allocation over its limit.

#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include <unistd.h>

namespace fcnlab {
namespace fuzz {

/// Writes the input to a scratch file of this process (one per harness and
/// process, overwritten by every run) and returns its path.
inline std::string input_file(
    const uint8_t* data,
    size_t size,
    const std::string& suffix) {
  const char* dir = std::getenv("TMPDIR");
  const std::string path = std::string(dir && *dir ? dir : "/tmp") +
      "/fcnlab-fuzz-" + std::to_string(::getpid()) + suffix;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

inline std::string input_bytes(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

/// Runs `read`; a c10::Error is the expected refusal of bad input.
template <typename Read>
int refuse_cleanly(Read&& read) {
  try {
    read();
  } catch (const c10::Error&) {
  }
  return 0;
}

} // namespace fuzz
} // namespace fcnlab
