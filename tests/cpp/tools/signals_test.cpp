// Real signals sent to `fcnlab train`: SIGTERM and Ctrl-C stop it after a
// snapshot, a second Ctrl-C stops it at once, and kill -9 at random moments
// (also while it writes snapshots) never leaves a damaged file under a final
// name or leftovers the next run trips over; the same for `create-db`. A
// snapshot that cannot be written (a full disk) is a named error that keeps
// the previous one.
#include <fcnlab/data/dataset_dir.h>
#include <fcnlab/io/model_file.h>

#include "cli_runner.h"
#include "seeded_test.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

namespace fcnlab {
namespace {

namespace fs = std::filesystem;
using testing::contains;
using testing::run_cli;
using testing::start_cli;
using testing::wait_for;

class SignalsTest : public testing::SeededTest {
 protected:
  void SetUp() override {
    SeededTest::SetUp();
    ASSERT_EQ(
        testing::prepare_synthetic_voc(path("voc.tar"), path("voc"), 6, 40),
        "");
  }

  // A long run (many short epochs), so that it is still training when the
  // signal comes.
  std::string train_arguments(const std::string& resume = "") const {
    return "train " + path("voc") + " --epochs 400 --lr 1e-3 --workers 1 " +
        "--output-dir " + path("out") +
        (resume.empty() ? "" : " --resume " + resume);
  }

  // Snapshots under their final names, newest (highest iteration) last.
  std::vector<fs::path> snapshots() const {
    static const std::regex name("^snapshot_iter_([0-9]+)\\.pt$");
    std::vector<std::pair<long, fs::path>> found;
    if (fs::exists(path("out"))) {
      for (const auto& entry : fs::directory_iterator(path("out"))) {
        std::smatch match;
        const std::string file = entry.path().filename().string();
        if (std::regex_match(file, match, name)) {
          found.emplace_back(std::stol(match[1].str()), entry.path());
        }
      }
    }
    std::sort(found.begin(), found.end());
    std::vector<fs::path> paths;
    for (const auto& pair : found) {
      paths.push_back(pair.second);
    }
    return paths;
  }

  std::vector<std::string> temporaries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(path("out"))) {
      if (contains(entry.path().filename().string(), ".tmp.")) {
        names.push_back(entry.path().filename().string());
      }
    }
    return names;
  }

  // Waits until the run has written a snapshot newer than `previous`.
  void wait_for_a_snapshot(pid_t pid, const fs::path& previous = {}) const {
    auto written = [&] {
      const auto now = snapshots();
      return !now.empty() && now.back() != previous;
    };
    for (int i = 0; i < 3000 && !written(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(written()) << read(path("log"));
    ASSERT_EQ(::waitpid(pid, nullptr, WNOHANG), 0) << "training ended early";
  }

  static std::string read(const std::string& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

TEST_F(SignalsTest, SigtermWritesASnapshotAndExitsZero) {
  const pid_t pid = start_cli(train_arguments(), path("log"));
  wait_for_a_snapshot(pid);
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  const auto ended = wait_for(pid, 60);
  ASSERT_TRUE(ended.exited) << read(path("log"));
  EXPECT_EQ(ended.code, 0) << read(path("log"));
  const std::string log = read(path("log"));
  EXPECT_TRUE(contains(log, "snapshot: " + snapshots().back().string())) << log;
  EXPECT_TRUE(temporaries().empty());

  // The snapshot continues the run.
  const auto resumed = run_cli(
      "train " + path("voc") + " --epochs 1 --lr 1e-3 --output-dir " +
      path("resumed") + " --resume " + snapshots().back().string());
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(contains(resumed.output, "resumed from")) << resumed.output;
}

TEST_F(SignalsTest, SecondCtrlCExitsAtOnceAndKeepsTheLastSnapshot) {
  const pid_t pid = start_cli(train_arguments(), path("log"));
  wait_for_a_snapshot(pid);
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  // Apart, so that the kernel does not merge them into one pending signal;
  // the first is still finishing its update or writing its snapshot.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  const auto ended = wait_for(pid, 10);
  ASSERT_FALSE(ended.timed_out);
  EXPECT_TRUE(ended.exited);
  EXPECT_EQ(ended.code, 128 + SIGINT);
  // Whatever it was doing, the newest complete snapshot resumes.
  const auto resumed = run_cli(
      "train " + path("voc") + " --epochs 1 --lr 1e-3 --output-dir " +
      path("resumed") + " --resume " + snapshots().back().string());
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
}

TEST_F(SignalsTest, KillNineAtRandomMomentsNeverLosesWork) {
  std::mt19937 random(1234);
  // From start-up to well past the first snapshots (an epoch of 4 images
  // takes about a second here, writing a snapshot about as long).
  std::uniform_int_distribution<int> delay_ms(1000, 5000);
  int killed = 0;
  int killed_while_writing = 0; // kills that left a temporary behind
  for (int trial = 0; trial < 8; ++trial) {
    const auto existing = snapshots();
    const pid_t pid = start_cli(
        train_arguments(existing.empty() ? "" : existing.back().string()),
        path("log"));
    if (existing.empty()) {
      // A loaded machine starts slowly: let the first run get a snapshot
      // written, so that every later run has one to resume.
      wait_for_a_snapshot(pid);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    const auto ended = wait_for(pid, 30);
    if (ended.signaled && ended.signal == SIGKILL) {
      ++killed;
    } else {
      ADD_FAILURE() << "trial " << trial << " ended by itself:\n"
                    << read(path("log"));
    }
    if (fs::exists(path("out"))) {
      killed_while_writing += temporaries().empty() ? 0 : 1;
      // Files under final names are complete: the model file loads.
      if (fs::exists(path("out/model.pt"))) {
        EXPECT_NO_THROW(io::load_model(path("out/model.pt")))
            << "trial " << trial;
      }
    }
  }
  EXPECT_EQ(killed, 8);
  RecordProperty("killed_while_writing", killed_while_writing);
  ASSERT_FALSE(snapshots().empty()) << read(path("log"));

  // The next run resumes from the newest snapshot and clears what the
  // killed runs left unfinished.
  const bool leftovers = !temporaries().empty();
  const fs::path newest = snapshots().back();
  const pid_t pid =
      start_cli(train_arguments(newest.string()), path("final_log"));
  wait_for_a_snapshot(pid, newest);
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  const auto ended = wait_for(pid, 60);
  EXPECT_TRUE(ended.exited && ended.code == 0) << read(path("final_log"));
  EXPECT_TRUE(contains(read(path("final_log")), "resumed from"));
  EXPECT_TRUE(temporaries().empty());
  if (leftovers) {
    EXPECT_TRUE(contains(
        read(path("final_log")), "left unfinished by an interrupted run"));
  }
}

TEST_F(SignalsTest, KillNineDuringCreateDbLeavesOldOrCompleteDatabases) {
  ASSERT_EQ(
      testing::prepare_synthetic_voc(path("big.tar"), path("big"), 100, 300),
      "");
  const std::string create = "create-db --train-images " +
      path("big/train/images") + " --train-labels " + path("big/train/labels") +
      " --out " + path("db") + " --workers 1";
  size_t images = 0;
  for (const auto& entry : fs::directory_iterator(path("big/train/images"))) {
    images += entry.is_regular_file() ? 1 : 0;
  }
  auto expect_complete_or_absent = [&](const std::string& when) {
    if (fs::exists(path("db"))) {
      const auto db = data::open_dataset_dir(path("db"));
      ASSERT_TRUE(db.train) << when;
      EXPECT_EQ(db.train->size().value(), images) << when;
    }
  };

  // A run takes about 0.9 s here, 0.35 s of it starting up: most kills
  // land while it writes.
  std::mt19937 random(99);
  std::uniform_int_distribution<int> delay_ms(250, 900);
  int killed_inside = 0;
  for (int trial = 0; trial < 8; ++trial) {
    const pid_t pid = start_cli(create, path("log"));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    ::kill(pid, SIGKILL);
    wait_for(pid, 30);
    expect_complete_or_absent("after kill " + std::to_string(trial));
    // Its staging directory stays until the next run removes it.
    for (const auto& entry : fs::directory_iterator(dir_)) {
      killed_inside +=
          contains(entry.path().filename().string(), "db.partial-");
    }
  }
  RecordProperty("kills_inside_a_run", killed_inside);
  const auto last = run_cli(create);
  ASSERT_EQ(last.exit_code, 0) << last.output;
  expect_complete_or_absent("after a full run");
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    EXPECT_FALSE(contains(name, "db.partial-") || contains(name, "db.old-"))
        << name << " left behind";
  }
}

// A network small enough that its snapshots are written in milliseconds, yet
// larger than every other file the run writes (curves.png, logs).
constexpr const char* kSmallNet = R"(name: "small"
layer {
  name: "data" type: "Input" top: "data"
  input_param { shape { dim: 1 dim: 3 dim: 40 dim: 40 } }
}
layer {
  name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 128 kernel_size: 7 pad: 3
    weight_filler { type: "gaussian" std: 0.01 } }
}
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer {
  name: "score" type: "Convolution" bottom: "conv1" top: "score"
  convolution_param { num_output: 21 kernel_size: 1 }
}
layer {
  name: "loss" type: "SoftmaxWithLoss" bottom: "score" bottom: "label"
  top: "loss" loss_param { ignore_label: 255 }
}
)";

TEST_F(SignalsTest, FullDiskIsNamedAndKeepsThePreviousSnapshot) {
  std::ofstream(path("small.prototxt")) << kSmallNet;
  const std::string train = "train " + path("voc") + " --network " +
      path("small.prototxt") + " --lr 1e-3 --workers 1 --output-dir " +
      path("out");
  const auto first = run_cli(train + " --epochs 1");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  ASSERT_EQ(snapshots().size(), 1u);
  const fs::path previous = snapshots().back();
  const std::string previous_bytes = read(previous.string());
  uintmax_t largest_other = 0;
  for (const auto& entry : fs::directory_iterator(path("out"))) {
    if (entry.path() != previous) {
      largest_other = std::max(largest_other, entry.file_size());
    }
  }
  // A file size limit fails writes with EFBIG as a full disk fails them
  // with ENOSPC (SIGXFSZ ignored), also as root. Only the snapshot is over.
  const uintmax_t limit = previous_bytes.size() * 3 / 4;
  ASSERT_LT(largest_other, limit) << "the network is too small for the test";
  const auto full = run_cli(
      train + " --epochs 2 --resume " + previous.string(),
      "trap '' XFSZ; exec prlimit --fsize=" + std::to_string(limit) + " ");
  EXPECT_EQ(full.exit_code, 1) << full.output;
  EXPECT_TRUE(contains(
      full.output, "error: cannot write " + path("out") + "/snapshot_iter_"))
      << full.output;
  EXPECT_TRUE(contains(full.output, "File too large")) << full.output;
  EXPECT_EQ(read(previous.string()), previous_bytes);
  EXPECT_EQ(snapshots(), std::vector<fs::path>{previous});
  EXPECT_TRUE(temporaries().empty());

  // With space again, the previous snapshot continues the run.
  const auto resumed =
      run_cli(train + " --epochs 2 --resume " + previous.string());
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(snapshots().size(), 2u);
}

} // namespace
} // namespace fcnlab
