#include "detail/tar.h"

#include <c10/util/Exception.h>

#include <archive.h>
#include <archive_entry.h>

#include <cstring>
#include <memory>

namespace fcnlab {
namespace util {
namespace detail {
namespace {

bool is_unsafe_path(const std::string& name) {
  if (name.empty() || name[0] == '/') {
    return true;
  }
  size_t start = 0;
  while (start <= name.size()) {
    const size_t end = std::min(name.find('/', start), name.size());
    if (name.compare(start, end - start, "..") == 0 && end - start == 2) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

// libarchive's last error; it may have none to give.
std::string error_of(struct archive* archive) {
  const char* text = archive_error_string(archive);
  std::string error = text ? text : "unknown error";
  const int code = archive_errno(archive);
  if (code > 0 && error.find(std::strerror(code)) == std::string::npos) {
    error += std::string(" (") + std::strerror(code) + ")";
  }
  return error;
}

// Far above any image, label or list of a segmentation dataset.
constexpr size_t kMaxEntryBytes = size_t(256) << 20;

} // namespace

TarWriter::TarWriter(const std::string& path)
    : file_(path), archive_(archive_write_new()) {
  archive_write_set_format_pax_restricted(archive_);
  if (archive_write_open_filename(archive_, file_.temp_path().c_str()) !=
      ARCHIVE_OK) {
    const std::string error = error_of(archive_);
    archive_write_free(archive_);
    TORCH_CHECK(false, "cannot write archive ", path, ": ", error);
  }
}

TarWriter::~TarWriter() {
  archive_write_free(archive_);
}

void TarWriter::add(const std::string& name, const std::string& bytes) {
  add(name, bytes.data(), bytes.size());
}

void TarWriter::add(const std::string& name, const void* data, size_t size) {
  std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(
      archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(entry.get(), name.c_str());
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_perm(entry.get(), 0644);
  bool written = archive_write_header(archive_, entry.get()) == ARCHIVE_OK;
  const auto* bytes = static_cast<const char*>(data);
  for (size_t done = 0; written && done < size;) {
    const la_ssize_t count =
        archive_write_data(archive_, bytes + done, size - done);
    written = count > 0;
    done += written ? static_cast<size_t>(count) : 0;
  }
  TORCH_CHECK(
      written,
      "cannot write ",
      file_.path(),
      ": entry ",
      name,
      ": ",
      error_of(archive_));
}

void TarWriter::close() {
  TORCH_CHECK(
      archive_write_close(archive_) == ARCHIVE_OK,
      "cannot write ",
      file_.path(),
      ": ",
      error_of(archive_));
  file_.commit();
}

TarReader::TarReader(const std::string& path)
    : path_(path), archive_(archive_read_new()) {
  archive_read_support_format_tar(archive_);
  archive_read_support_format_gnutar(archive_);
  archive_read_support_filter_all(archive_);
  if (archive_read_open_filename(archive_, path.c_str(), 1 << 20) !=
      ARCHIVE_OK) {
    // The destructor does not run for a constructor that throws.
    const std::string error = error_of(archive_);
    archive_read_free(archive_);
    TORCH_CHECK(false, "archive ", path, ": cannot open: ", error);
  }
}

TarReader::~TarReader() {
  archive_read_free(archive_);
}

bool TarReader::next() {
  archive_entry* entry = nullptr;
  const int status = archive_read_next_header(archive_, &entry);
  if (status == ARCHIVE_EOF) {
    return false;
  }
  TORCH_CHECK(
      status == ARCHIVE_OK || status == ARCHIVE_WARN,
      "archive ",
      path_,
      ": cannot read the entry after ",
      name_.empty() ? "the start" : name_,
      ": ",
      error_of(archive_));
  name_ = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
  is_file_ = archive_entry_filetype(entry) == AE_IFREG;
  size_ = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : -1;
  TORCH_CHECK(
      !is_unsafe_path(name_),
      "archive ",
      path_,
      ": refusing entry '",
      name_,
      "' (absolute path or '..')");
  return true;
}

void TarReader::read_into(void* out, size_t bytes) {
  auto* cursor = static_cast<char*>(out);
  size_t done = 0;
  la_ssize_t count = 1;
  while (done < bytes &&
         (count = archive_read_data(archive_, cursor + done, bytes - done)) >
             0) {
    done += static_cast<size_t>(count);
  }
  char extra = 0;
  TORCH_CHECK(
      count >= 0 && done == bytes &&
          archive_read_data(archive_, &extra, 1) == 0,
      "archive ",
      path_,
      ": entry ",
      name_,
      count < 0
          ? " is truncated or corrupt: " + error_of(archive_)
          : " does not hold the " + std::to_string(bytes) + " bytes expected");
}

std::string TarReader::read() {
  std::string bytes;
  char buffer[1 << 16];
  la_ssize_t count;
  while ((count = archive_read_data(archive_, buffer, sizeof(buffer))) > 0) {
    bytes.append(buffer, static_cast<size_t>(count));
    // A compressed archive can expand without bound (a gzip bomb).
    TORCH_CHECK(
        bytes.size() <= kMaxEntryBytes,
        "archive ",
        path_,
        ": entry ",
        name_,
        " is larger than ",
        kMaxEntryBytes >> 20,
        " MiB; images, labels and lists never are");
  }
  TORCH_CHECK(
      count == 0,
      "archive ",
      path_,
      ": entry ",
      name_,
      " is truncated or corrupt: ",
      error_of(archive_));
  return bytes;
}

} // namespace detail
} // namespace util
} // namespace fcnlab
