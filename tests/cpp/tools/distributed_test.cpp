// Data-parallel training with the command line tool: two ranks on this
// machine over 127.0.0.1, as torchrun or a person starts them.
#include <fcnlab/io/model_file.h>

#include "cli_runner.h"
#include "free_port.h"
#include "seeded_test.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fcnlab {
namespace {

using testing::contains;
using testing::free_port;
using testing::run_cli;
using testing::start_cli;
using testing::wait_for;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class DistributedTest : public testing::SeededTest {
 protected:
  void SetUp() override {
    SeededTest::SetUp();
    // 11 images: 8 for training, an even number, so that no rank pads.
    ASSERT_EQ(
        testing::prepare_synthetic_voc(path("voc.tar"), path("voc"), 11, 48),
        "");
  }

  std::string environment(int rank, int port) const {
    return "RANK=" + std::to_string(rank) +
        " WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
        std::to_string(port);
  }

  // Starts both ranks with per-rank arguments; returns their outputs after
  // both ended (each within `seconds`), and their exit codes.
  std::vector<std::pair<int, std::string>> run_job(
      const std::string& arguments0,
      const std::string& arguments1,
      double seconds = 120) {
    const int port = free_port();
    const pid_t rank0 =
        start_cli(arguments0, path("rank0.log"), environment(0, port));
    const pid_t rank1 =
        start_cli(arguments1, path("rank1.log"), environment(1, port));
    const auto ended0 = wait_for(rank0, seconds);
    const auto ended1 = wait_for(rank1, seconds);
    EXPECT_FALSE(ended0.timed_out || ended1.timed_out) << "the job hung";
    return {
        {ended0.code, read_text(path("rank0.log"))},
        {ended1.code, read_text(path("rank1.log"))}};
  }

  // Starts a long job and returns the ranks' process ids once it has made
  // three updates.
  std::pair<pid_t, pid_t> start_long_job(const std::string& extra) {
    const int port = free_port();
    const std::string arguments = "train " + path("voc") +
        " --epochs 200 --lr 1e-3 --progress-seconds 0 --output-dir " +
        path("job") + extra;
    const pid_t rank0 =
        start_cli(arguments, path("rank0.log"), environment(0, port));
    const pid_t rank1 =
        start_cli(arguments, path("rank1.log"), environment(1, port));
    for (int i = 0;
         i < 600 && !contains(read_text(path("rank0.log")), "iter 3/");
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(contains(read_text(path("rank0.log")), "iter 3/"))
        << read_text(path("rank0.log"));
    return {rank0, rank1};
  }

  std::string train_arguments(const std::string& out, int epochs = 2) const {
    // No dropout: its masks are drawn per rank.
    return "train " + path("voc") + " --epochs " + std::to_string(epochs) +
        " --lr 1e-3 --dropout 0 --dist-timeout 60 --output-dir " + path(out);
  }
};

TEST_F(DistributedTest, TwoRanksEqualOneProcessWithTwiceTheIterSize) {
  const auto ranks = run_job(train_arguments("job"), train_arguments("job"));
  ASSERT_EQ(ranks[0].first, 0) << ranks[0].second;
  ASSERT_EQ(ranks[1].first, 0) << ranks[1].second;
  EXPECT_TRUE(contains(ranks[0].second, "job: 2 ranks, gradients over gloo"))
      << ranks[0].second;
  // Rank 0 alone speaks.
  EXPECT_TRUE(contains(ranks[0].second, "train: 8 images")) << ranks[0].second;
  EXPECT_FALSE(contains(ranks[1].second, "train: ")) << ranks[1].second;
  EXPECT_FALSE(contains(ranks[1].second, "snapshot:")) << ranks[1].second;
  // 8 images, 2 ranks: 4 updates an epoch.
  EXPECT_TRUE(std::filesystem::exists(path("job/snapshot_iter_8.pt")));

  const auto single = run_cli(train_arguments("single") + " --iter-size 2");
  ASSERT_EQ(single.exit_code, 0) << single.output;
  // And the same with the all-reduce after backward instead of during it.
  const auto after = run_job(
      train_arguments("after") + " --no-overlap",
      train_arguments("after") + " --no-overlap");
  ASSERT_EQ(after[0].first, 0) << after[0].second;
  const auto one = io::load_model(path("single/model.pt")).model;
  const auto expected = one->named_parameters();
  for (const char* run : {"job", "after"}) {
    const auto job = io::load_model(path(std::string(run) + "/model.pt")).model;
    double largest = 0;
    for (const auto& item : job->named_parameters()) {
      largest = std::max(
          largest,
          (item.value() - expected[item.key()]).abs().max().item<double>());
    }
    EXPECT_LE(largest, 1e-5) << run;
  }
  // The validation of the job (sharded, confusion matrices summed) is the
  // single process's.
  const auto job_epochs = read_text(path("job/epochs.csv"));
  const auto single_epochs = read_text(path("single/epochs.csv"));
  EXPECT_EQ(
      job_epochs.substr(job_epochs.rfind("\n2,8,")).substr(0, 60),
      single_epochs.substr(single_epochs.rfind("\n2,8,")).substr(0, 60));

  // One rank continues the job's snapshot: 8 updates an epoch now.
  const auto resumed = run_cli(
      "train " + path("voc") +
      " --epochs 3 --lr 1e-3 --dropout 0 --output-dir " + path("job") +
      " --resume " + path("job/snapshot_iter_8.pt"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(std::filesystem::exists(path("job/snapshot_iter_16.pt")));
}

TEST_F(DistributedTest, ARankThatDiesStopsTheOther) {
  const auto [rank0, rank1] = start_long_job(" --dist-timeout 30");
  ASSERT_EQ(::kill(rank1, SIGKILL), 0);
  wait_for(rank1, 10);
  const auto ended = wait_for(rank0, 60);
  EXPECT_FALSE(ended.timed_out) << "rank 0 hung after rank 1 died";
  EXPECT_TRUE(ended.exited && ended.code != 0);
  const auto log = read_text(path("rank0.log"));
  EXPECT_TRUE(contains(log, "rank 0 of 2")) << log;
  EXPECT_TRUE(contains(log, "rank 1 stopped answering")) << log;
}

TEST_F(DistributedTest, CtrlCOnOneRankStopsBothAfterASnapshot) {
  const auto [rank0, rank1] = start_long_job("");
  ASSERT_EQ(::kill(rank1, SIGINT), 0); // rank 1 only
  const auto ended1 = wait_for(rank1, 60);
  const auto ended0 = wait_for(rank0, 60);
  const auto log = read_text(path("rank0.log"));
  EXPECT_TRUE(ended0.exited && ended0.code == 0) << log;
  EXPECT_TRUE(ended1.exited && ended1.code == 0)
      << read_text(path("rank1.log"));
  EXPECT_TRUE(contains(log, "stopped at iteration")) << log;
  const auto snapshot = log.find("snapshot: ");
  ASSERT_NE(snapshot, std::string::npos) << log;
  const auto file =
      log.substr(snapshot + 10, log.find('\n', snapshot) - snapshot - 10);
  EXPECT_TRUE(std::filesystem::exists(file)) << file;
}

TEST_F(DistributedTest, NcclForCpuTrainingIsRefused) {
  const auto run = run_cli(train_arguments("nccl") + " --dist-backend nccl");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_TRUE(contains(
      run.output,
      "the nccl backend sums CUDA tensors, but training runs on cpu"))
      << run.output;
}

TEST_F(DistributedTest, RanksWithOtherOptionsAreNamed) {
  const auto ranks = run_job(train_arguments("job"), train_arguments("job", 3));
  for (const auto& [code, log] : ranks) {
    EXPECT_NE(code, 0) << log;
    EXPECT_TRUE(contains(log, "the ranks of the job disagree")) << log;
    EXPECT_TRUE(contains(log, "3 epochs")) << log;
  }
}

TEST_F(DistributedTest, TorchrunStartsTheToolItself) {
  if (!std::filesystem::exists("/usr/bin/torchrun")) {
    GTEST_SKIP() << "no torchrun (python3-torch) on this machine";
  }
  // Debian's torchrun needs explicit --redirects/--tee (a Python 3.11
  // incompatibility in its option parsing).
  const std::string command =
      "/usr/bin/torchrun --no_python --redirects 9:1 "
      "--tee 9:1 --nproc_per_node 2 --master_port " +
      std::to_string(free_port()) + " " + FCNLAB_CLI + " --threads 1 " +
      train_arguments("torchrun", 1) + " 2>&1";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  size_t count;
  while ((count = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    output.append(buffer, count);
  }
  const int status = ::pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  EXPECT_TRUE(contains(output, "job: 2 ranks")) << output;
  EXPECT_TRUE(std::filesystem::exists(path("torchrun/model.pt")));
}

} // namespace
} // namespace fcnlab
