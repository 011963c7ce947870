#include "builtin_hooks.h"

#include "../../util/detail/host.h"

#include <fcnlab/train/trainer.h>
#include <fcnlab/util/atomic_file.h>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

namespace fcnlab {
namespace train {
namespace detail {
namespace {

namespace fs = std::filesystem;

nlohmann::json options_json(const TrainerOptions& o) {
  const auto& s = o.solver();
  return {
      {"epochs", o.epochs()},
      {"max_iter", o.max_iter()},
      {"solver", to_string(s.type())},
      {"base_lr", s.base_lr()},
      {"lr_policy", to_string(s.lr_policy())},
      {"momentum", s.momentum()},
      {"weight_decay", s.weight_decay()},
      {"iter_size", s.iter_size()},
      {"snapshot_every", o.snapshot_every()},
      {"val_every", o.val_every()},
      {"seed", o.seed()},
      {"threads", o.threads()},
      {"workers", o.workers()},
      {"log_every", o.log_every()},
      {"device", o.device()},
      {"precision", o.precision()},
      {"batch_equal_sizes", o.batch_equal_sizes()}};
}

class RunRecord : public TrainerHook {
 public:
  explicit RunRecord(RunDescription run) : run_(std::move(run)) {}

  void before_train(Trainer& trainer) override {
    const auto& options = trainer.options();
    record_ = {
        {"format", "fcnlab-run"},
        {"version", 1},
        {"status", "running"},
        {"pid", static_cast<int64_t>(getpid())},
        {"host", util::detail::host_name()},
        {"started", unix_seconds()},
        {"network", run_.network},
        {"dataset", options.dataset()},
        {"epochs", run_.epochs},
        {"total_iterations", run_.total_iterations},
        {"images_per_iteration", run_.images_per_iteration},
        {"world_size", trainer.world_size()},
        {"class_names", run_.class_names},
        {"options", options_json(options)}};
    write();
  }

  void after_train(Trainer&, bool stopped) override {
    record_["status"] = stopped ? "stopped" : "finished";
    record_["finished"] = unix_seconds();
    write();
  }

 private:
  void write() const {
    util::write_file_atomically(
        (fs::path(run_.dir) / "run.json").string(), record_.dump(2) + "\n");
  }

  RunDescription run_;
  nlohmann::json record_;
};

} // namespace

double unix_seconds() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<TrainerHook> run_record(RunDescription run) {
  return std::make_shared<RunRecord>(std::move(run));
}

void record_run_failure(const std::string& dir, const std::string& error) {
  const auto path = fs::path(dir) / "run.json";
  nlohmann::json record;
  try {
    std::ifstream in(path);
    record = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    return; // no record to update: training failed before it began
  }
  record["status"] = "failed";
  record["error"] = error;
  record["finished"] = unix_seconds();
  util::write_file_atomically(path.string(), record.dump(2) + "\n");
}

} // namespace detail
} // namespace train
} // namespace fcnlab
