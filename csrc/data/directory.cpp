#include "detail/directory.h"

#include <fcnlab/util/atomic_file.h>

#include <c10/util/Exception.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <regex>

#include <fcntl.h>
#include <unistd.h>

namespace fcnlab {
namespace data {
namespace detail {

namespace fs = std::filesystem;

namespace {

// Staging and old directories of `target` whose process is gone: a run
// killed before commit() or before removing the replaced output.
void remove_leftovers(const fs::path& target) {
  const std::string prefix = target.filename().string();
  std::error_code error;
  for (const auto& entry :
       fs::directory_iterator(target.parent_path(), error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() ||
        name.compare(0, prefix.size(), prefix)) {
      continue;
    }
    static const std::regex suffix("^\\.(partial|old)-([0-9]+)$");
    std::smatch match;
    const std::string rest = name.substr(prefix.size());
    if (std::regex_match(rest, match, suffix) &&
        !util::process_exists(std::stol(match[2].str()))) {
      fs::remove_all(entry.path(), error);
    }
  }
}

} // namespace

StagingDirectory::StagingDirectory(const std::string& target)
    : target_(fs::absolute(target)),
      staging_(target_.string() + ".partial-" + std::to_string(::getpid())) {
  remove_leftovers(target_);
  fs::remove_all(staging_);
  fs::create_directories(staging_);
}

StagingDirectory::~StagingDirectory() {
  if (!committed_) {
    std::error_code ignored;
    fs::remove_all(staging_, ignored);
  }
}

void StagingDirectory::commit() {
  if (!fs::exists(target_)) {
    fs::rename(staging_, target_);
    committed_ = true;
    return;
  }
  // Swap the two in one step, so that the target is never absent: a kill
  // at any moment leaves the old or the new output under its name.
  TORCH_CHECK(
      ::renameat2(
          AT_FDCWD,
          staging_.c_str(),
          AT_FDCWD,
          target_.c_str(),
          RENAME_EXCHANGE) == 0,
      "cannot replace ",
      target_.string(),
      ": ",
      std::strerror(errno));
  committed_ = true;
  // The staging path now holds the old output.
  fs::remove_all(staging_);
}

} // namespace detail
} // namespace data
} // namespace fcnlab
