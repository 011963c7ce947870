#pragma once

#include <string>
#include <vector>

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

  /// Appends to the temporary, creating it on first use. Throws c10::Error
  /// with the file name and errno text when it cannot be written (a full
  /// disk, a file size limit); the target is then untouched.
  void write(const void* data, size_t size);

  /// fsyncs the temporary and renames it to path(); throws c10::Error with
  /// the file name and errno text on failure.
  void commit();

 private:
  std::string path_;
  std::string temp_path_;
  int fd_ = -1; // the temporary, when write() created it
  bool committed_ = false;
};

/// Whether process `pid` exists (it may belong to another user). Leftovers
/// named after a process that does not are safe to remove.
bool process_exists(long pid);

/// Removes the temporaries that AtomicFile left in `dir` (files named
/// "<target>.tmp.<pid>.<n>") when their writer is gone: a process killed
/// before commit() cannot remove its own. Temporaries of running processes
/// and every other file stay. Returns the names removed.
std::vector<std::string> remove_stale_temporaries(const std::string& dir);

/// Writes `bytes` to `path` atomically (see AtomicFile).
void write_file_atomically(const std::string& path, const std::string& bytes);

/// Reads a whole file; throws c10::Error naming the file when it cannot be
/// opened or read.
std::string read_file(const std::string& path, const std::string& what);

} // namespace util
} // namespace fcnlab
