#pragma once

#include <fcnlab/util/atomic_file.h>

#include <cstdint>
#include <string>

struct archive;

namespace fcnlab {
namespace util {
namespace detail {

/// Writes a POSIX tar archive, atomically: the file appears when close()
/// succeeds.
class TarWriter {
 public:
  explicit TarWriter(const std::string& path);
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  /// Adds a regular file (mode 0644) named `name` holding `bytes`.
  void add(const std::string& name, const std::string& bytes);
  void add(const std::string& name, const void* data, size_t size);
  void close();

 private:
  util::AtomicFile file_;
  struct ::archive* archive_;
};

/// Reads entries of a tar (optionally gzip/bzip2/xz-compressed) archive in
/// order, without extracting it.
class TarReader {
 public:
  explicit TarReader(const std::string& path);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  /// Moves to the next entry; false at the end. Throws c10::Error for an
  /// unreadable archive or an entry with an absolute path or a ".."
  /// component.
  bool next();
  const std::string& name() const {
    return name_;
  }
  bool is_file() const {
    return is_file_;
  }
  /// The current entry's size as its header declares it.
  int64_t size() const {
    return size_;
  }
  /// Reads exactly `bytes` bytes of the current entry into `out`; throws
  /// c10::Error naming the entry when it holds fewer or more.
  void read_into(void* out, size_t bytes);
  /// The current entry's contents; throws c10::Error naming the entry
  /// when it is truncated, corrupt or over 256 MiB.
  std::string read();

 private:
  std::string path_;
  struct ::archive* archive_;
  std::string name_;
  bool is_file_ = false;
  int64_t size_ = 0;
};

} // namespace detail
} // namespace util
} // namespace fcnlab
