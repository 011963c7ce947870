#include "run_index.h"

#include <algorithm>
#include <filesystem>
#include <set>

namespace fcnlab {
namespace serve {
namespace detail {
namespace {

namespace fs = std::filesystem;

// Folders whose contents are data, not runs: never walked.
bool skipped(const std::string& name) {
  static const std::set<std::string> data_folders = {
      "images",
      "labels",
      "segmented",
      "train_db",
      "val_db",
      "node_modules",
      ".git"};
  return data_folders.count(name) > 0 || name.rfind('.', 0) == 0;
}

void walk(
    const fs::path& dir,
    int depth,
    int max_depth,
    std::vector<std::string>& runs,
    std::vector<std::string>& datasets) {
  if (is_run_folder(dir.string())) {
    runs.push_back(dir.string());
  }
  if (is_dataset_folder(dir.string())) {
    datasets.push_back(dir.string());
    return; // its folders are its splits
  }
  if (depth >= max_depth) {
    return;
  }
  std::error_code error;
  std::vector<fs::path> children;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    std::error_code type_error;
    if (entry.is_directory(type_error) && !entry.is_symlink(type_error) &&
        !skipped(entry.path().filename().string())) {
      children.push_back(entry.path());
    }
  }
  std::sort(children.begin(), children.end());
  for (const auto& child : children) {
    walk(child, depth + 1, max_depth, runs, datasets);
  }
}

} // namespace

std::string run_id_for(const std::string& relative_path) {
  std::string id;
  for (const auto& part : fs::path(relative_path)) {
    const auto name = part.string();
    if (name.empty() || name == "." || name == "/") {
      continue;
    }
    if (!id.empty()) {
      id += '~';
    }
    for (const char c : name) {
      const bool safe = std::isalnum(static_cast<unsigned char>(c)) ||
          c == '.' || c == '_' || c == '-';
      id += safe ? c : '_';
    }
  }
  return id.empty() ? "run" : id;
}

RunIndex::RunIndex(
    std::vector<std::string> folders,
    int max_depth,
    size_t kept_events)
    : folders_(std::move(folders)),
      max_depth_(max_depth),
      kept_events_(kept_events) {}

void RunIndex::discover(
    std::vector<std::string>& run_dirs,
    std::vector<std::string>& dataset_dirs) const {
  for (const auto& folder : folders_) {
    walk(fs::path(folder), 0, max_depth_, run_dirs, dataset_dirs);
  }
}

// The run's path from the served folder's own name down ("demo/train").
std::string RunIndex::relative_name(const std::string& dir) const {
  const auto run = fs::absolute(dir).lexically_normal();
  for (const auto& folder : folders_) {
    auto base = fs::absolute(folder).lexically_normal();
    if (!base.has_filename()) { // "runs/" -> "runs"
      base = base.parent_path();
    }
    const auto relative = run.lexically_relative(base.parent_path());
    if (!relative.empty() && *relative.begin() != "..") {
      return relative.string();
    }
  }
  return run.filename().string();
}

template <typename Map>
std::string RunIndex::unique_id(const Map& taken, const std::string& wanted) {
  std::string id = wanted;
  for (int n = 2; taken.count(id); ++n) {
    id = wanted + "-" + std::to_string(n);
  }
  return id;
}

void RunIndex::refresh(bool look_for_new) {
  std::vector<std::string> run_dirs, dataset_dirs;
  if (look_for_new) {
    discover(run_dirs, dataset_dirs); // unlocked: the file system may be slow
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& dir : dataset_dirs) {
    if (!dataset_of_dir_.count(dir)) {
      const auto name = relative_name(dir);
      const auto id = unique_id(datasets_, run_id_for(name));
      dataset_of_dir_[dir] = id;
      datasets_[id] = std::make_unique<DatasetView>(id, name, dir);
    }
  }
  for (const auto& dir : run_dirs) {
    if (id_of_dir_.count(dir)) {
      continue;
    }
    const auto name = relative_name(dir);
    const auto id = unique_id(runs_, run_id_for(name));
    id_of_dir_[dir] = id;
    runs_[id] = std::make_unique<RunLog>(id, name, dir);
  }
  for (auto& [id, run] : runs_) {
    auto changes = run->refresh();
    if (changes.summary_changed) {
      push("run", run->summary().dump());
    }
    for (auto& line : changes.lines) {
      push(
          "metrics",
          nlohmann::json{{"run", id}, {"line", std::move(line)}}.dump());
    }
  }
}

void RunIndex::push(std::string type, std::string data) {
  events_.push_back({next_event_id_++, std::move(type), std::move(data)});
  while (events_.size() > kept_events_) {
    events_.pop_front();
  }
  changed_.notify_all();
}

nlohmann::json RunIndex::runs() const {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [id, run] : runs_) {
    rows.push_back(run->summary());
  }
  return rows;
}

std::optional<nlohmann::json> RunIndex::run(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = runs_.find(id);
  if (found == runs_.end()) {
    return std::nullopt;
  }
  auto detail = found->second->detail();
  detail["last_event_id"] = next_event_id_ - 1;
  // The dataset page of the data the run trained on, when it is served.
  const std::string data = detail.value("dataset", "");
  std::error_code error;
  const auto wanted = fs::weakly_canonical(fs::path(data), error);
  for (const auto& [dir, dataset_id] : dataset_of_dir_) {
    std::error_code other_error;
    if (!data.empty() && !error &&
        fs::weakly_canonical(fs::path(dir), other_error) == wanted) {
      detail["dataset_id"] = dataset_id;
    }
  }
  return detail;
}

std::optional<std::string> RunIndex::run_dir(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = runs_.find(id);
  return found == runs_.end()
      ? std::nullopt
      : std::optional<std::string>(found->second->dir());
}

std::vector<RunFile> RunIndex::run_files(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = runs_.find(id);
  return found == runs_.end() ? std::vector<RunFile>{} : found->second->files();
}

std::vector<std::string> RunIndex::model_files(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = runs_.find(id);
  return found == runs_.end() ? std::vector<std::string>{}
                              : found->second->model_files();
}

std::vector<std::string> RunIndex::class_names(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = runs_.find(id);
  return found == runs_.end() ? std::vector<std::string>{}
                              : found->second->class_names();
}

std::vector<Event> RunIndex::events_after(
    int64_t last_id,
    size_t limit,
    bool* gap) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Event> found;
  if (gap) {
    *gap = !events_.empty() && last_id + 1 < events_.front().id;
  }
  for (const auto& event : events_) {
    if (event.id > last_id && found.size() < limit) {
      found.push_back(event);
    }
  }
  return found;
}

nlohmann::json RunIndex::datasets() const {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [id, dataset] : datasets_) {
    rows.push_back(dataset->summary());
  }
  return rows;
}

DatasetView* RunIndex::dataset(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = datasets_.find(id);
  return found == datasets_.end() ? nullptr : found->second.get();
}

int64_t RunIndex::last_event_id() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_event_id_ - 1;
}

bool RunIndex::wait_for_events(
    int64_t last_id,
    std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(
      lock, timeout, [&] { return next_event_id_ - 1 > last_id; });
}

void RunIndex::notify_all() const {
  changed_.notify_all();
}

} // namespace detail
} // namespace serve
} // namespace fcnlab
