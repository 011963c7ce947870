#include "run_log.h"

#include "../../util/detail/host.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace fcnlab {
namespace serve {
namespace detail {
namespace {

namespace fs = std::filesystem;

constexpr size_t kSparklinePoints = 40;
constexpr const char* kMetrics = "metrics.jsonl";

int64_t file_stamp(const fs::path& path) {
  std::error_code error;
  const auto size = fs::file_size(path, error);
  if (error) {
    return -1;
  }
  const auto time = fs::last_write_time(path, error);
  return static_cast<int64_t>(size) ^
      (static_cast<int64_t>(time.time_since_epoch().count()) << 1);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool process_alive(int64_t pid) {
  return pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

double number_or_nan(const nlohmann::json& line, const char* key) {
  const auto found = line.find(key);
  return found != line.end() && found->is_number()
      ? found->get<double>()
      : std::numeric_limits<double>::quiet_NaN();
}

nlohmann::json finite_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json();
}

nlohmann::json whole_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(static_cast<int64_t>(value))
                              : nlohmann::json();
}

} // namespace

bool is_run_folder(const std::string& dir) {
  std::error_code error;
  return fs::is_regular_file(fs::path(dir) / "run.json", error) ||
      fs::is_regular_file(fs::path(dir) / kMetrics, error);
}

RunLog::RunLog(std::string id, std::string name, std::string dir)
    : id_(std::move(id)), name_(std::move(name)), dir_(std::move(dir)) {}

RunLog::Changes RunLog::refresh() {
  Changes changes;
  const auto before = summary();
  read_record();
  read_metrics(changes);
  changes.summary_changed = changes.restarted || summary() != before;
  return changes;
}

void RunLog::read_record() {
  const auto path = fs::path(dir_) / "run.json";
  const int64_t stamp = file_stamp(path);
  if (stamp == record_stamp_) {
    return;
  }
  record_stamp_ = stamp;
  try {
    auto parsed = nlohmann::json::parse(read_text(path));
    if (parsed.is_object()) {
      record_ = std::move(parsed);
    }
  } catch (const nlohmann::json::exception&) {
    // Written atomically, so this is a damaged file: keep what was read.
  }
}

void RunLog::read_metrics(Changes& changes) {
  const auto path = fs::path(dir_) / kMetrics;
  std::error_code error;
  const auto size = static_cast<int64_t>(fs::file_size(path, error));
  if (error) {
    return;
  }
  if (size < metrics_offset_) { // a fresh run emptied the log
    metrics_offset_ = 0;
    partial_line_.clear();
    iteration_.clear(), epoch_.clear(), loss_.clear(), accuracy_.clear();
    lr_.clear(), time_.clear();
    epochs_.clear();
    changes.restarted = true;
  }
  if (size == metrics_offset_) {
    return;
  }
  std::ifstream in(path, std::ios::binary);
  in.seekg(metrics_offset_);
  std::string chunk(static_cast<size_t>(size - metrics_offset_), '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  chunk.resize(static_cast<size_t>(in.gcount()));
  metrics_offset_ += static_cast<int64_t>(chunk.size());
  partial_line_ += chunk;
  size_t start = 0;
  for (size_t end; (end = partial_line_.find('\n', start)) != std::string::npos;
       start = end + 1) {
    const auto text = partial_line_.substr(start, end - start);
    try {
      auto line = nlohmann::json::parse(text);
      if (line.is_object()) {
        add_line(line);
        changes.lines.push_back(std::move(line));
      }
    } catch (const nlohmann::json::exception&) {
      // A line that is not JSON (a torn write of a crashed run) is skipped.
    }
  }
  partial_line_.erase(0, start);
}

void RunLog::add_line(const nlohmann::json& line) {
  if (line.value("type", "") == "epoch") {
    epochs_.push_back(line);
    return;
  }
  iteration_.push_back(number_or_nan(line, "iteration"));
  epoch_.push_back(number_or_nan(line, "epoch"));
  loss_.push_back(number_or_nan(line, "loss"));
  accuracy_.push_back(number_or_nan(line, "accuracy"));
  lr_.push_back(number_or_nan(line, "lr"));
  time_.push_back(number_or_nan(line, "time"));
  images_per_second_ = number_or_nan(line, "images_per_second");
}

std::string RunLog::status() const {
  const std::string recorded = record_.value("status", "");
  if (recorded == "running") {
    // A process of this machine that is gone ended without a word.
    const bool here = record_.value("host", "") == util::detail::host_name();
    if (here && !process_alive(record_.value("pid", int64_t(0)))) {
      return "failed";
    }
    return recorded;
  }
  if (!recorded.empty()) {
    return recorded;
  }
  std::error_code error;
  return fs::exists(fs::path(dir_) / "model.pt", error) ? "finished"
                                                        : "unknown";
}

nlohmann::json RunLog::summary() const {
  nlohmann::json row = {
      {"id", id_},
      {"name", name_},
      {"path", dir_},
      {"network", record_.value("network", "")},
      {"dataset", record_.value("dataset", "")},
      {"status", status()},
      {"epochs", record_.value("epochs", int64_t(0))},
      {"total_iterations", record_.value("total_iterations", int64_t(0))}};
  const size_t n = iteration_.size();
  row["iteration"] = n ? whole_or_null(iteration_.back()) : nlohmann::json();
  row["epoch"] = n ? whole_or_null(epoch_.back()) : nlohmann::json();
  row["loss"] = n ? finite_or_null(loss_.back()) : nlohmann::json();
  row["images_per_second"] = finite_or_null(images_per_second_);
  nlohmann::json sparkline = nlohmann::json::array();
  const size_t step = std::max<size_t>(1, n / kSparklinePoints);
  for (size_t i = (n % step); i < n; i += step) {
    sparkline.push_back(finite_or_null(loss_[i]));
  }
  row["sparkline"] = sparkline;
  double best = -1;
  nlohmann::json best_epoch;
  for (const auto& e : epochs_) {
    const double iu = number_or_nan(e, "val_mean_iu");
    if (std::isfinite(iu) && iu > best) {
      best = iu;
      best_epoch = e.value("epoch", int64_t(0));
    }
  }
  row["best_mean_iu"] = best >= 0 ? nlohmann::json(best) : nlohmann::json();
  row["best_epoch"] = best_epoch;
  const double started = record_.value("started", 0.0);
  const double finished = record_.value("finished", 0.0);
  const double last_time =
      n && std::isfinite(time_.back()) ? time_.back() : started;
  if (started > 0) {
    row["started"] = started;
    row["duration"] =
        std::max(0.0, (finished > 0 ? finished : last_time) - started);
  }
  // ETA from the pace so far: the time per iteration since the start.
  const double total = row["total_iterations"].get<double>();
  if (row["status"] == "running" && n && started > 0 && total > 0 &&
      iteration_.back() > 0 && last_time > started) {
    const double per_iteration = (last_time - started) / iteration_.back();
    row["eta_seconds"] =
        std::max(0.0, (total - iteration_.back()) * per_iteration);
  }
  if (record_.contains("error")) {
    row["error"] = record_["error"];
  }
  return row;
}

nlohmann::json RunLog::detail() const {
  auto run = summary();
  run["record"] = record_;
  run["epoch_lines"] = epochs_;
  run["iterations"] = {
      {"iteration", iteration_},
      {"epoch", epoch_},
      {"loss", loss_},
      {"accuracy", accuracy_},
      {"lr", lr_},
      {"time", time_}};
  // nlohmann writes NaN as null, which is what the charts want for a gap.
  run["solver"] = read_text(fs::path(dir_) / "solver.prototxt");
  nlohmann::json files = nlohmann::json::array();
  for (const auto& file : this->files()) {
    files.push_back({{"name", file.name}, {"bytes", file.bytes}});
  }
  run["files"] = files;
  run["models"] = model_files();
  run["class_names"] = class_names();
  return run;
}

std::vector<RunFile> RunLog::files() const {
  std::vector<RunFile> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir_, error)) {
    std::error_code size_error;
    if (!entry.is_regular_file(size_error)) {
      continue;
    }
    const auto name = entry.path().filename().string();
    if (name.find(".tmp") != std::string::npos || name[0] == '.') {
      continue; // a temporary being written
    }
    found.push_back({name, static_cast<int64_t>(entry.file_size(size_error))});
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.name < b.name;
  });
  return found;
}

std::vector<std::string> RunLog::model_files() const {
  // model.pt (the latest weights) first, then the snapshots, newest first;
  // a snapshot's network is model.pt's.
  std::vector<std::pair<int64_t, std::string>> snapshots;
  bool has_model = false;
  for (const auto& file : files()) {
    int64_t iteration = 0;
    char rest = 0;
    if (file.name == "model.pt") {
      has_model = true;
    } else if (
        std::sscanf(
            file.name.c_str(),
            "snapshot_iter_%" SCNd64 ".p%c",
            &iteration,
            &rest) == 2 &&
        file.name == "snapshot_iter_" + std::to_string(iteration) + ".pt") {
      snapshots.emplace_back(iteration, file.name);
    }
  }
  std::vector<std::string> models;
  if (!has_model) {
    return models;
  }
  models.push_back("model.pt");
  std::sort(snapshots.rbegin(), snapshots.rend());
  for (const auto& [iteration, name] : snapshots) {
    models.push_back(name);
  }
  return models;
}

std::vector<std::string> RunLog::class_names() const {
  const auto found = record_.find("class_names");
  if (found != record_.end() && found->is_array()) {
    try {
      return found->get<std::vector<std::string>>();
    } catch (const nlohmann::json::exception&) {
    }
  }
  return {};
}

} // namespace detail
} // namespace serve
} // namespace fcnlab
