#include "detail/tar.h"

#include <c10/util/Exception.h>

#include <archive.h>
#include <archive_entry.h>

#include <memory>

namespace fcnlab {
namespace data {
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

} // namespace

TarWriter::TarWriter(const std::string& path)
    : file_(path), archive_(archive_write_new()) {
  archive_write_set_format_pax_restricted(archive_);
  TORCH_CHECK(
      archive_write_open_filename(archive_, file_.temp_path().c_str()) ==
          ARCHIVE_OK,
      "cannot write archive ",
      path,
      ": ",
      archive_error_string(archive_));
}

TarWriter::~TarWriter() {
  archive_write_free(archive_);
}

void TarWriter::add(const std::string& name, const std::string& bytes) {
  std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(
      archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(entry.get(), name.c_str());
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(bytes.size()));
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_perm(entry.get(), 0644);
  const bool written =
      archive_write_header(archive_, entry.get()) == ARCHIVE_OK &&
      archive_write_data(archive_, bytes.data(), bytes.size()) ==
          static_cast<la_ssize_t>(bytes.size());
  TORCH_CHECK(
      written,
      "cannot write ",
      name,
      " into archive ",
      file_.path(),
      ": ",
      archive_error_string(archive_));
}

void TarWriter::close() {
  TORCH_CHECK(
      archive_write_close(archive_) == ARCHIVE_OK,
      "cannot finish archive ",
      file_.path(),
      ": ",
      archive_error_string(archive_));
  file_.commit();
}

TarReader::TarReader(const std::string& path)
    : path_(path), archive_(archive_read_new()) {
  archive_read_support_format_tar(archive_);
  archive_read_support_format_gnutar(archive_);
  archive_read_support_filter_all(archive_);
  TORCH_CHECK(
      archive_read_open_filename(archive_, path.c_str(), 1 << 20) == ARCHIVE_OK,
      "archive ",
      path,
      ": cannot open: ",
      archive_error_string(archive_));
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
      archive_error_string(archive_));
  name_ = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
  is_file_ = archive_entry_filetype(entry) == AE_IFREG;
  TORCH_CHECK(
      !is_unsafe_path(name_),
      "archive ",
      path_,
      ": refusing entry '",
      name_,
      "' (absolute path or '..')");
  return true;
}

std::string TarReader::read() {
  std::string bytes;
  char buffer[1 << 16];
  la_ssize_t count;
  while ((count = archive_read_data(archive_, buffer, sizeof(buffer))) > 0) {
    bytes.append(buffer, static_cast<size_t>(count));
  }
  TORCH_CHECK(
      count == 0,
      "archive ",
      path_,
      ": entry ",
      name_,
      " is truncated or corrupt: ",
      archive_error_string(archive_));
  return bytes;
}

} // namespace detail
} // namespace data
} // namespace fcnlab
