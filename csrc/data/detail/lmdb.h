#pragma once

#include <lmdb.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace fcnlab {
namespace data {
namespace detail {

/// Writes key/value pairs into a new LMDB environment (a directory),
/// committing in batches and doubling the map size when it fills up, as
/// DIGITS does.
class LmdbWriter {
 public:
  explicit LmdbWriter(const std::string& dir);
  ~LmdbWriter();
  LmdbWriter(const LmdbWriter&) = delete;
  LmdbWriter& operator=(const LmdbWriter&) = delete;

  void put(std::string key, std::string value);
  /// Commits what is pending; the writer can go on afterwards.
  void flush();

 private:
  std::string dir_;
  MDB_env* env_ = nullptr;
  size_t map_size_;
  std::vector<std::pair<std::string, std::string>> pending_;
};

/// Reads an LMDB environment without locking it (read-only).
class LmdbReader {
 public:
  explicit LmdbReader(const std::string& dir);
  ~LmdbReader();
  LmdbReader(const LmdbReader&) = delete;
  LmdbReader& operator=(const LmdbReader&) = delete;

  /// Every key, in the database's (sorted) order.
  std::vector<std::string> keys() const;
  /// The value of `key`; throws c10::Error naming the directory if absent.
  std::string get(const std::string& key) const;

 private:
  /// Throws when `file` (the opened data.mdb) ends before its last page.
  void check_complete(const std::filesystem::path& file) const;

  std::string dir_;
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
};

} // namespace detail
} // namespace data
} // namespace fcnlab
