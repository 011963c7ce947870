#pragma once

#include <string>

namespace fcnlab {
namespace util {

/// Lower-case hex SHA1 of a file's contents; throws c10::Error naming the
/// file when it cannot be read.
std::string sha1_file(const std::string& path);

/// Downloads `url` (http, https or file) to `destination`, atomically: the
/// destination appears only when the transfer completed and, if
/// `expected_sha1` is not empty, its SHA1 matched. Throws c10::Error naming
/// the URL and the reason (no network, HTTP error, checksum mismatch).
void download(
    const std::string& url,
    const std::string& destination,
    const std::string& expected_sha1 = "");

/// Where downloaded weights are kept: $FCNLAB_CACHE, else
/// $XDG_CACHE_HOME/fcnlab, else ~/.cache/fcnlab. Created if missing.
std::string default_cache_dir();

} // namespace util
} // namespace fcnlab
