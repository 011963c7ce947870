#include "detail/directory.h"

#include <unistd.h>

namespace fcnlab {
namespace data {
namespace detail {

namespace fs = std::filesystem;

StagingDirectory::StagingDirectory(const std::string& target)
    : target_(fs::absolute(target)),
      staging_(target_.string() + ".partial-" + std::to_string(::getpid())) {
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
  const fs::path old = target_.string() + ".old-" + std::to_string(::getpid());
  const bool had_target = fs::exists(target_);
  if (had_target) {
    fs::rename(target_, old);
  }
  fs::rename(staging_, target_);
  committed_ = true;
  if (had_target) {
    fs::remove_all(old);
  }
}

} // namespace detail
} // namespace data
} // namespace fcnlab
