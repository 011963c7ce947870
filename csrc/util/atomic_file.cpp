#include <fcnlab/util/atomic_file.h>

#include <c10/util/Exception.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

namespace fcnlab {
namespace util {
namespace {

std::string unique_temp_name(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." +
      std::to_string(counter++);
}

} // namespace

AtomicFile::AtomicFile(std::string path)
    : path_(std::move(path)), temp_path_(unique_temp_name(path_)) {}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  if (!committed_) {
    std::remove(temp_path_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t size) {
  if (fd_ < 0) {
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    TORCH_CHECK(fd_ >= 0, "cannot write ", path_, ": ", std::strerror(errno));
  }
  const auto* bytes = static_cast<const char*>(data);
  for (size_t done = 0; done < size;) {
    const ssize_t written = ::write(fd_, bytes + done, size - done);
    if (written > 0) {
      done += static_cast<size_t>(written);
    } else if (written == 0 || errno != EINTR) {
      TORCH_CHECK(
          false,
          "cannot write ",
          path_,
          ": ",
          std::strerror(written == 0 ? ENOSPC : errno),
          " (the previous file, if any, is unchanged)");
    }
  }
}

void AtomicFile::commit() {
  const int fd = fd_ >= 0 ? fd_ : ::open(temp_path_.c_str(), O_RDONLY);
  fd_ = -1;
  TORCH_CHECK(
      fd >= 0,
      "cannot write ",
      path_,
      ": the temporary file ",
      temp_path_,
      " is missing (",
      std::strerror(errno),
      ")");
  const int synced = ::fsync(fd);
  const int sync_errno = errno;
  ::close(fd);
  TORCH_CHECK(
      synced == 0,
      "cannot write ",
      path_,
      ": fsync failed (",
      std::strerror(sync_errno),
      ")");
  TORCH_CHECK(
      std::rename(temp_path_.c_str(), path_.c_str()) == 0,
      "cannot write ",
      path_,
      ": rename failed (",
      std::strerror(errno),
      ")");
  committed_ = true;
}

bool process_exists(long pid) {
  // ESRCH: no such process. EPERM: it exists but is not ours.
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH);
}

std::vector<std::string> remove_stale_temporaries(const std::string& dir) {
  static const std::regex temporary("^.+\\.tmp\\.([0-9]+)\\.[0-9]+$");
  std::vector<std::string> removed;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    std::smatch match;
    if (!std::regex_match(name, match, temporary)) {
      continue;
    }
    // A reused pid keeps the file, which is safe.
    const long pid = std::stol(match[1].str());
    if (pid != ::getpid() && !process_exists(pid) &&
        std::filesystem::remove(entry.path(), error)) {
      removed.push_back(name);
    }
  }
  return removed;
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  AtomicFile file(path);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

std::string read_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(
      in.good(), what, ": cannot open ", path, ": ", std::strerror(errno));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  TORCH_CHECK(!in.bad(), what, ": cannot read ", path);
  return bytes.str();
}

} // namespace util
} // namespace fcnlab
