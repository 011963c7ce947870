#pragma once
// The runs below the folders `fcnlab serve` was given, kept current by
// polling, and the events their changes make: what the pages' one
// Server-Sent Events stream carries.

#include "dataset_view.h"
#include "run_log.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace fcnlab {
namespace serve {
namespace detail {

/// One change, numbered: "run" (a run's summary; new or changed) or
/// "metrics" (a line appended to a run's metrics.jsonl).
struct Event {
  int64_t id = 0;
  std::string type;
  std::string data; ///< JSON
};

class RunIndex {
 public:
  /// `folders`: run folders, or folders searched for runs up to
  /// `max_depth` levels down.
  explicit RunIndex(
      std::vector<std::string> folders,
      int max_depth = 4,
      size_t kept_events = 50000);

  /// Reads what changed in the known runs and, with `look_for_new`, walks
  /// the folders for new runs and datasets; numbers each change as an
  /// event and wakes wait_for_events().
  void refresh(bool look_for_new = true);

  nlohmann::json runs() const;
  std::optional<nlohmann::json> run(const std::string& id) const;
  /// The run's folder and the files a client may fetch from it.
  std::optional<std::string> run_dir(const std::string& id) const;
  std::vector<RunFile> run_files(const std::string& id) const;
  std::vector<std::string> model_files(const std::string& id) const;
  std::vector<std::string> class_names(const std::string& id) const;

  /// The dataset folders found: [{id, name, path}].
  nlohmann::json datasets() const;
  /// The dataset `id`, or nullptr; it lives as long as the index.
  DatasetView* dataset(const std::string& id) const;

  /// Events after `last_id`, at most `limit`. `gap` is set when some were
  /// already dropped (the client must reload).
  std::vector<Event> events_after(int64_t last_id, size_t limit, bool* gap)
      const;
  int64_t last_event_id() const;
  /// Waits until an event after `last_id` exists or `timeout` passes.
  bool wait_for_events(int64_t last_id, std::chrono::milliseconds timeout)
      const;
  /// Wakes every waiter (shutdown).
  void notify_all() const;

 private:
  void discover(
      std::vector<std::string>& run_dirs,
      std::vector<std::string>& dataset_dirs) const;
  std::string relative_name(const std::string& dir) const;
  template <typename Map>
  static std::string unique_id(const Map& taken, const std::string& wanted);
  void push(std::string type, std::string data);

  std::vector<std::string> folders_;
  int max_depth_;
  size_t kept_events_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::map<std::string, std::unique_ptr<RunLog>> runs_; // by id
  std::map<std::string, std::string> id_of_dir_;
  std::map<std::string, std::unique_ptr<DatasetView>> datasets_; // by id
  std::map<std::string, std::string> dataset_of_dir_;
  std::deque<Event> events_;
  int64_t next_event_id_ = 1;
};

/// A URL-safe id for a run path relative to a served folder: letters,
/// digits, '.', '_', '-', with '~' between folder levels.
std::string run_id_for(const std::string& relative_path);

} // namespace detail
} // namespace serve
} // namespace fcnlab
