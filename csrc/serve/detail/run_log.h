#pragma once
// One training run's folder as the Trainer leaves it (run.json,
// metrics.jsonl, snapshots), read incrementally: refresh() parses only the
// lines appended since the last call, so a run of many thousand iterations
// costs its new lines, not its whole log, on each poll.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fcnlab {
namespace serve {
namespace detail {

/// The run's files a client may fetch: its listing, not paths it names.
struct RunFile {
  std::string name;
  int64_t bytes = 0;
};

class RunLog {
 public:
  /// `name`: how pages show the run (its path from the served folder).
  RunLog(std::string id, std::string name, std::string dir);

  /// Reads what changed on disk. Returns the metrics lines appended since
  /// the last call (all of them after the log was started anew, with
  /// `restarted` set) and whether the summary changed.
  struct Changes {
    std::vector<nlohmann::json> lines;
    bool restarted = false;
    bool summary_changed = false;
  };
  Changes refresh();

  const std::string& id() const {
    return id_;
  }
  const std::string& dir() const {
    return dir_;
  }
  /// A row of the runs table: name, network, dataset, status, epoch and
  /// iteration, last loss and a thinned loss sparkline, best validation
  /// mean IU and its epoch, images/s, ETA, start and duration.
  nlohmann::json summary() const;
  /// Everything the run page shows: the summary, the record (options,
  /// class names, error), every epoch line, the iterations as columns, the
  /// solver, and the file listing.
  nlohmann::json detail() const;
  std::vector<RunFile> files() const;
  /// Model files a segmentation can load (model.pt first).
  std::vector<std::string> model_files() const;
  std::vector<std::string> class_names() const;

 private:
  void read_record();
  void read_metrics(Changes& changes);
  void add_line(const nlohmann::json& line);
  std::string status() const;

  std::string id_;
  std::string name_;
  std::string dir_;
  nlohmann::json record_ = nlohmann::json::object();
  int64_t record_stamp_ = -1;
  int64_t metrics_offset_ = 0;
  std::string partial_line_;

  // Iteration lines as columns (what the charts plot).
  std::vector<double> iteration_, epoch_, loss_, accuracy_, lr_, time_;
  double images_per_second_ = 0;
  std::vector<nlohmann::json> epochs_;
  std::string last_status_;
};

/// True when `dir` holds a training run (run.json or metrics.jsonl).
bool is_run_folder(const std::string& dir);

} // namespace detail
} // namespace serve
} // namespace fcnlab
