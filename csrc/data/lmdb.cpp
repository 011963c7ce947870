#include "detail/lmdb.h"

#include <c10/util/Exception.h>

#include <filesystem>

namespace fcnlab {
namespace data {
namespace detail {
namespace {

constexpr size_t kInitialMapSize = size_t{64} << 20;
constexpr size_t kBatch = 256;

void check(int status, const std::string& dir, const char* what) {
  TORCH_CHECK(
      status == MDB_SUCCESS,
      "lmdb ",
      dir,
      ": ",
      what,
      " failed: ",
      mdb_strerror(status));
}

// A read transaction, aborted when it goes out of scope.
struct ReadTxn {
  MDB_txn* txn = nullptr;
  ReadTxn(MDB_env* env, const std::string& dir) {
    check(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn), dir, "begin");
  }
  ~ReadTxn() {
    mdb_txn_abort(txn);
  }
};

} // namespace

LmdbWriter::LmdbWriter(const std::string& dir)
    : dir_(dir), map_size_(kInitialMapSize) {
  std::filesystem::create_directories(dir);
  check(mdb_env_create(&env_), dir_, "create");
  check(mdb_env_set_mapsize(env_, map_size_), dir_, "set map size");
  check(mdb_env_open(env_, dir_.c_str(), 0, 0664), dir_, "open");
}

LmdbWriter::~LmdbWriter() {
  mdb_env_close(env_);
}

void LmdbWriter::put(std::string key, std::string value) {
  pending_.emplace_back(std::move(key), std::move(value));
  if (pending_.size() >= kBatch) {
    flush();
  }
}

void LmdbWriter::flush() {
  while (!pending_.empty()) {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env_, nullptr, 0, &txn), dir_, "begin");
    MDB_dbi dbi;
    int status = mdb_dbi_open(txn, nullptr, 0, &dbi);
    for (auto& [key, value] : pending_) {
      if (status != MDB_SUCCESS) {
        break;
      }
      MDB_val k{key.size(), key.data()};
      MDB_val v{value.size(), value.data()};
      status = mdb_put(txn, dbi, &k, &v, 0);
    }
    if (status == MDB_SUCCESS) {
      status = mdb_txn_commit(txn);
    } else {
      mdb_txn_abort(txn);
    }
    if (status == MDB_MAP_FULL) {
      // Grow and redo the batch.
      map_size_ *= 2;
      check(mdb_env_set_mapsize(env_, map_size_), dir_, "grow map");
      continue;
    }
    check(status, dir_, "write");
    pending_.clear();
  }
}

LmdbReader::LmdbReader(const std::string& dir) : dir_(dir) {
  const auto file = std::filesystem::path(dir) / "data.mdb";
  TORCH_CHECK(
      std::filesystem::exists(file),
      "lmdb ",
      dir,
      ": no data.mdb (not an LMDB database)");
  TORCH_CHECK(
      std::filesystem::file_size(file) > 0,
      "lmdb ",
      dir,
      ": data.mdb is empty");
  check(mdb_env_create(&env_), dir_, "create");
  try {
    check(
        mdb_env_open(
            env_, dir_.c_str(), MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS, 0664),
        dir_,
        "open");
    check_complete(file);
    ReadTxn txn(env_, dir_);
    check(mdb_dbi_open(txn.txn, nullptr, 0, &dbi_), dir_, "open database");
  } catch (...) {
    mdb_env_close(env_); // the destructor does not run for a throw here
    throw;
  }
}

void LmdbReader::check_complete(const std::filesystem::path& file) const {
  // LMDB maps the file and trusts it: reading a page past the end of a
  // truncated copy would kill the process with SIGBUS, not fail.
  MDB_envinfo info;
  MDB_stat stat;
  check(mdb_env_info(env_, &info), dir_, "info");
  check(mdb_env_stat(env_, &stat), dir_, "stat");
  const auto needed =
      (static_cast<uintmax_t>(info.me_last_pgno) + 1) * stat.ms_psize;
  const auto size = std::filesystem::file_size(file);
  TORCH_CHECK(
      size >= needed,
      "lmdb ",
      dir_,
      ": data.mdb is truncated: ",
      size,
      " bytes, but its pages reach byte ",
      needed,
      " (an interrupted copy?)");
}

LmdbReader::~LmdbReader() {
  mdb_env_close(env_);
}

std::vector<std::string> LmdbReader::keys() const {
  ReadTxn txn(env_, dir_);
  MDB_cursor* cursor = nullptr;
  check(mdb_cursor_open(txn.txn, dbi_, &cursor), dir_, "cursor");
  std::vector<std::string> keys;
  MDB_val key, value;
  while (mdb_cursor_get(cursor, &key, &value, MDB_NEXT) == MDB_SUCCESS) {
    keys.emplace_back(static_cast<const char*>(key.mv_data), key.mv_size);
  }
  mdb_cursor_close(cursor);
  return keys;
}

std::string LmdbReader::get(const std::string& key) const {
  ReadTxn txn(env_, dir_);
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val value;
  const int status = mdb_get(txn.txn, dbi_, &k, &value);
  TORCH_CHECK(status != MDB_NOTFOUND, "lmdb ", dir_, " has no entry ", key);
  check(status, dir_, "read");
  return {static_cast<const char*>(value.mv_data), value.mv_size};
}

} // namespace detail
} // namespace data
} // namespace fcnlab
