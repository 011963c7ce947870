#include "../../../csrc/serve/detail/run_index.h"
#include "../../../csrc/serve/detail/run_log.h"

#include "run_lines.h"
#include "seeded_test.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fcnlab {
namespace serve {
namespace detail {
namespace {

namespace fs = std::filesystem;

class RunLogTest : public testing::SeededTest {
 protected:
  void append(const std::string& run, const std::string& text) {
    std::ofstream(path(run + "/metrics.jsonl"), std::ios::app) << text;
  }
  void write_record(const std::string& run, const nlohmann::json& record) {
    std::ofstream(path(run + "/run.json")) << record.dump();
  }
  static std::string host() {
    char name[256] = {};
    gethostname(name, sizeof(name) - 1);
    return name;
  }
};

TEST_F(RunLogTest, ReadsOnlyCompleteLinesAndStartsOverWhenTheLogIsEmptied) {
  fs::create_directories(path("r"));
  RunLog log("r", "r", path("r"));
  append(
      "r",
      testing::iteration_line(10, 2.0, 100) +
          testing::iteration_line(20, 1.5, 110));
  append("r", R"({"type": "iteration", "iteration": 30, "lo)");
  auto changes = log.refresh();
  ASSERT_EQ(changes.lines.size(), 2u);
  EXPECT_EQ(changes.lines[1]["loss"], 1.5);
  EXPECT_EQ(log.summary()["iteration"], 20);
  append("r", "ss\": 1.25}\n");
  changes = log.refresh();
  ASSERT_EQ(changes.lines.size(), 1u);
  EXPECT_EQ(changes.lines[0]["loss"], 1.25);
  EXPECT_FALSE(changes.restarted);
  EXPECT_TRUE(log.refresh().lines.empty()); // nothing new

  std::ofstream(path("r/metrics.jsonl"), std::ios::trunc)
      << testing::iteration_line(10, 3.0, 200);
  changes = log.refresh();
  EXPECT_TRUE(changes.restarted);
  ASSERT_EQ(changes.lines.size(), 1u);
  EXPECT_EQ(log.detail()["iterations"]["loss"].size(), 1u);
}

TEST_F(RunLogTest, SummaryHasTheBestEpochAndAnEtaFromThePaceSoFar) {
  fs::create_directories(path("r"));
  write_record(
      "r",
      {{"status", "running"},
       {"pid", int64_t(getpid())},
       {"host", host()},
       {"started", 1000.0},
       {"total_iterations", 100},
       {"epochs", 4},
       {"network", "FCN-Alexnet"},
       {"dataset", "db"}});
  // 40 iterations in 200 s: 5 s each, 60 to go.
  for (int i = 1; i <= 40; ++i) {
    append("r", testing::iteration_line(i, 1.0 / i, 1000 + 5 * i));
  }
  for (const auto& [epoch, iu] : {std::pair{1, 0.3}, {2, 0.5}, {3, 0.45}}) {
    append(
        "r",
        nlohmann::json{{"type", "epoch"}, {"epoch", epoch}, {"val_mean_iu", iu}}
                .dump() +
            "\n");
  }
  RunLog log("r", "r", path("r"));
  log.refresh();
  const auto row = log.summary();
  EXPECT_EQ(row["status"], "running");
  EXPECT_EQ(row["best_epoch"], 2);
  EXPECT_DOUBLE_EQ(row["best_mean_iu"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(row["eta_seconds"].get<double>(), 300.0);
  EXPECT_DOUBLE_EQ(row["duration"].get<double>(), 200.0);
  EXPECT_EQ(row["network"], "FCN-Alexnet");
  EXPECT_DOUBLE_EQ(row["loss"].get<double>(), 1.0 / 40);
  // The sparkline thins the curve but ends at its last value.
  EXPECT_LE(row["sparkline"].size(), 40u);
  EXPECT_DOUBLE_EQ(row["sparkline"].back().get<double>(), 1.0 / 40);
}

TEST_F(RunLogTest, ARunningRecordOfAProcessThatIsGoneIsFailed) {
  const pid_t child = fork();
  if (child == 0) {
    _exit(0);
  }
  waitpid(child, nullptr, 0); // its pid is free now
  fs::create_directories(path("r"));
  write_record(
      "r", {{"status", "running"}, {"pid", int64_t(child)}, {"host", host()}});
  RunLog log("r", "r", path("r"));
  log.refresh();
  EXPECT_EQ(log.summary()["status"], "failed");
  // On another machine the process cannot be looked at: still running.
  write_record(
      "r",
      {{"status", "running"},
       {"pid", int64_t(child)},
       {"host", "elsewhere"},
       {"started", 1.0}});
  log.refresh();
  EXPECT_EQ(log.summary()["status"], "running");
}

TEST_F(RunLogTest, TheIndexFindsRunsBelowItsFoldersAndNumbersTheirChanges) {
  fs::create_directories(path("runs/a"));
  fs::create_directories(path("runs/b/c"));
  fs::create_directories(path("runs/images/x")); // data, never walked
  append("runs/a", testing::iteration_line(1, 1.0, 1));
  append("runs/b/c", testing::iteration_line(1, 2.0, 1));
  append("runs/images/x", testing::iteration_line(1, 2.0, 1));
  RunIndex index({path("runs")});
  index.refresh();
  const auto runs = index.runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0]["id"], "runs~a");
  EXPECT_EQ(runs[1]["id"], "runs~b~c");
  EXPECT_EQ(runs[1]["name"], "runs/b/c");
  const int64_t seen = index.last_event_id();
  append("runs/a", testing::iteration_line(2, 0.5, 2));
  index.refresh();
  bool gap = true;
  const auto events = index.events_after(seen, 100, &gap);
  EXPECT_FALSE(gap);
  ASSERT_EQ(events.size(), 2u); // the line, then the changed summary
  const auto by_type = [&](const std::string& type) {
    for (const auto& e : events) {
      if (e.type == type) {
        return nlohmann::json::parse(e.data);
      }
    }
    return nlohmann::json();
  };
  EXPECT_EQ(by_type("metrics")["run"], "runs~a");
  EXPECT_EQ(by_type("metrics")["line"]["loss"], 0.5);
  EXPECT_EQ(by_type("run")["iteration"], 2);
  EXPECT_EQ(events[1].id, events[0].id + 1);
  EXPECT_EQ(run_id_for("my runs/x+y"), "my_runs~x_y");
}

TEST_F(RunLogTest, DroppedEventsAreReportedAsAGap) {
  fs::create_directories(path("r"));
  RunIndex index({path("r")}, 4, /*kept_events=*/3);
  for (int i = 1; i <= 5; ++i) {
    append("r", testing::iteration_line(i, 1.0, i));
  }
  index.refresh();
  bool gap = false;
  EXPECT_EQ(index.events_after(0, 100, &gap).size(), 3u);
  EXPECT_TRUE(gap);
  index.events_after(index.last_event_id() - 3, 100, &gap);
  EXPECT_FALSE(gap);
}

} // namespace
} // namespace detail
} // namespace serve
} // namespace fcnlab
