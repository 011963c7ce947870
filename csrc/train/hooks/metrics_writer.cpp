#include "builtin_hooks.h"

#include "../detail/snapshot.h"

#include <c10/util/Exception.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace fcnlab {
namespace train {
namespace detail {
namespace {

namespace fs = std::filesystem;

std::string csv_number(double value) {
  if (!std::isfinite(value)) {
    return "";
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", value);
  return text;
}

void append_line(const fs::path& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  out << line << "\n";
  TORCH_CHECK(out.good(), "cannot append to ", path.string());
}

class MetricsWriter : public TrainerHook {
 public:
  MetricsWriter(std::string dir, int64_t log_every, bool fresh)
      : dir_(std::move(dir)), log_every_(log_every), fresh_(fresh) {}

  void before_train(Trainer&) override {
    if (!fresh_) {
      return;
    }
    for (const char* log : {"metrics.jsonl", "iterations.csv", "epochs.csv"}) {
      std::ofstream(dir_ / log, std::ios::trunc);
    }
    append_line(dir_ / "iterations.csv", "iteration,epoch,loss,accuracy,lr");
    append_line(
        dir_ / "epochs.csv",
        "epoch,iteration,lr,train_loss,train_accuracy,val_loss,val_pixel_accuracy,"
        "val_mean_accuracy,val_mean_iu,val_fw_iu,seconds");
  }

  bool after_step(Trainer&, const IterationInfo& info) override {
    if (info.iteration % log_every_ != 0) {
      return true;
    }
    const nlohmann::json line = {
        {"type", "iteration"},
        {"epoch", info.epoch},
        {"iteration", info.iteration},
        {"loss", info.loss},
        {"accuracy", info.accuracy},
        {"lr", info.learning_rate},
        {"images_per_second", info.images_per_second},
        {"time", unix_seconds()}};
    append_line(dir_ / "metrics.jsonl", line.dump());
    append_line(
        dir_ / "iterations.csv",
        std::to_string(info.iteration) + "," + std::to_string(info.epoch) +
            "," + csv_number(info.loss) + "," + csv_number(info.accuracy) +
            "," + csv_number(info.learning_rate));
    return true;
  }

  bool after_epoch(Trainer&, EpochInfo& e) override {
    auto line = epoch_to_json(e);
    line["type"] = "epoch";
    line["time"] = unix_seconds();
    append_line(dir_ / "metrics.jsonl", line.dump());
    append_line(
        dir_ / "epochs.csv",
        std::to_string(e.epoch) + "," + std::to_string(e.iteration) + "," +
            csv_number(e.learning_rate) + "," + csv_number(e.train_loss) + "," +
            csv_number(e.train_accuracy) + "," + csv_number(e.val_loss) + "," +
            csv_number(e.val_pixel_accuracy) + "," +
            csv_number(e.val_mean_accuracy) + "," + csv_number(e.val_mean_iu) +
            "," + csv_number(e.val_frequency_weighted_iu) + "," +
            csv_number(e.seconds));
    return true;
  }

 private:
  fs::path dir_;
  int64_t log_every_;
  bool fresh_;
};

} // namespace

std::shared_ptr<TrainerHook> metrics_writer(
    std::string dir,
    int64_t log_every,
    bool fresh) {
  return std::make_shared<MetricsWriter>(std::move(dir), log_every, fresh);
}

} // namespace detail
} // namespace train
} // namespace fcnlab
