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
  TORCH_CHECK(
      std::filesystem::exists(std::filesystem::path(dir) / "data.mdb"),
      "lmdb ",
      dir,
      ": no data.mdb (not an LMDB database)");
  check(mdb_env_create(&env_), dir_, "create");
  check(
      mdb_env_open(
          env_, dir_.c_str(), MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS, 0664),
      dir_,
      "open");
  ReadTxn txn(env_, dir_);
  check(mdb_dbi_open(txn.txn, nullptr, 0, &dbi_), dir_, "open database");
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
