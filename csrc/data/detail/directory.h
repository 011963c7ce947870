#pragma once

#include <filesystem>
#include <string>

namespace fcnlab {
namespace data {
namespace detail {

/// A directory built beside `target` (target.partial-PID) that replaces
/// target only on commit(); removed when abandoned, so readers never see a
/// half-written output. Staging directories of killed runs are removed
/// when the next one starts.
class StagingDirectory {
 public:
  explicit StagingDirectory(const std::string& target);
  ~StagingDirectory();
  StagingDirectory(const StagingDirectory&) = delete;
  StagingDirectory& operator=(const StagingDirectory&) = delete;

  const std::filesystem::path& path() const {
    return staging_;
  }
  /// Swaps the staging directory with the target in one rename (the target
  /// is never absent), then removes the old output.
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path staging_;
  bool committed_ = false;
};

} // namespace detail
} // namespace data
} // namespace fcnlab
