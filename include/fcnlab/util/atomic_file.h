#pragma once

#include <string>

namespace fcnlab {
namespace util {

/// Writes a file so that readers see either the old file or the complete new
/// one, never a partial write: write to temp_path(), then commit() flushes it
/// to disk and renames it over the target. Without commit() (an exception, a
/// crash) the temporary is removed and the target is untouched.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// A unique file beside the target, on the same file system.
  const std::string& temp_path() const {
    return temp_path_;
  }
  const std::string& path() const {
    return path_;
  }

  /// fsyncs the temporary and renames it to path(); throws c10::Error with
  /// the file name and errno text on failure.
  void commit();

 private:
  std::string path_;
  std::string temp_path_;
  bool committed_ = false;
};

/// Writes `bytes` to `path` atomically (see AtomicFile).
void write_file_atomically(const std::string& path, const std::string& bytes);

/// Reads a whole file; throws c10::Error naming the file when it cannot be
/// opened or read.
std::string read_file(const std::string& path, const std::string& what);

} // namespace util
} // namespace fcnlab
