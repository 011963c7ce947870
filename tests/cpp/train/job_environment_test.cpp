#include <fcnlab/train/distributed.h>

#include <gtest/gtest.h>

#include <c10/util/Exception.h>

#include <cstdlib>
#include <map>
#include <string>

namespace fcnlab {
namespace train {
namespace {

const char* const kVariables[] = {
    "RANK",
    "WORLD_SIZE",
    "LOCAL_RANK",
    "MASTER_ADDR",
    "MASTER_PORT",
    "TORCHELASTIC_USE_AGENT_STORE",
    "TORCHELASTIC_RESTART_COUNT",
    "GLOO_SOCKET_IFNAME"};

class JobEnvironmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clear();
  }
  void TearDown() override {
    clear();
  }
  static void clear() {
    for (const char* name : kVariables) {
      ::unsetenv(name);
    }
  }
  static void set(const std::map<std::string, std::string>& values) {
    for (const auto& [name, value] : values) {
      ::setenv(name.c_str(), value.c_str(), 1);
    }
  }
  static std::string error_of_parsing() {
    try {
      job_from_environment();
    } catch (const c10::Error& error) {
      return error.what_without_backtrace();
    }
    return "(no error)";
  }
};

TEST_F(JobEnvironmentTest, NoVariablesIsASingleProcess) {
  EXPECT_FALSE(job_from_environment().has_value());
}

TEST_F(JobEnvironmentTest, TorchrunsVariables) {
  set(
      {{"RANK", "3"},
       {"WORLD_SIZE", "4"},
       {"LOCAL_RANK", "1"},
       {"MASTER_ADDR", "node7"},
       {"MASTER_PORT", "29511"},
       {"TORCHELASTIC_USE_AGENT_STORE", "True"},
       {"TORCHELASTIC_RESTART_COUNT", "2"},
       {"GLOO_SOCKET_IFNAME", "eth0,ib0"}});
  const auto job = job_from_environment();
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->rank, 3);
  EXPECT_EQ(job->world_size, 4);
  EXPECT_EQ(job->local_rank, 1);
  EXPECT_EQ(job->master_address, "node7");
  EXPECT_EQ(job->master_port, 29511);
  EXPECT_TRUE(job->agent_store);
  EXPECT_EQ(job->restart_count, "2");
  EXPECT_EQ(job->interfaces, (std::vector<std::string>{"eth0", "ib0"}));
}

TEST_F(JobEnvironmentTest, ByHandWithoutLocalRank) {
  set(
      {{"RANK", "1"},
       {"WORLD_SIZE", "2"},
       {"MASTER_ADDR", "127.0.0.1"},
       {"MASTER_PORT", "29500"}});
  const auto job = job_from_environment();
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->local_rank, 1); // one machine: the rank
  EXPECT_FALSE(job->agent_store);
  EXPECT_TRUE(job->interfaces.empty());
}

TEST_F(JobEnvironmentTest, MistakesNameTheVariable) {
  set({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "29500"}});
  EXPECT_NE(
      error_of_parsing().find("MASTER_ADDR is not set"), std::string::npos)
      << error_of_parsing();
  set({{"MASTER_ADDR", "h"}, {"RANK", "two"}});
  EXPECT_NE(error_of_parsing().find("RANK='two'"), std::string::npos)
      << error_of_parsing();
  set({{"RANK", "2"}});
  EXPECT_NE(
      error_of_parsing().find("RANK=2 is not below WORLD_SIZE=2"),
      std::string::npos)
      << error_of_parsing();
  set({{"RANK", "1"}, {"MASTER_PORT", "70000"}});
  EXPECT_NE(error_of_parsing().find("MASTER_PORT=70000"), std::string::npos)
      << error_of_parsing();
  clear();
  set({{"RANK", "0"}});
  EXPECT_NE(error_of_parsing().find("WORLD_SIZE is not set"), std::string::npos)
      << error_of_parsing();
}

std::string error_of_choosing(const std::string& name, const char* device) {
  try {
    choose_backend(name, c10::Device(device));
  } catch (const c10::Error& error) {
    return error.what_without_backtrace();
  }
  return "";
}

TEST(ChooseBackendTest, AutoIsNcclOnlyForCudaInABuildWithIt) {
  EXPECT_EQ(choose_backend("auto", c10::Device("cpu")), CudaBackend::kGloo);
  EXPECT_EQ(
      choose_backend("auto", c10::Device("cuda:1")),
      nccl_available() ? CudaBackend::kNccl : CudaBackend::kGloo);
  EXPECT_EQ(choose_backend("gloo", c10::Device("cuda:0")), CudaBackend::kGloo);
  if (nccl_available()) {
    EXPECT_EQ(
        choose_backend("nccl", c10::Device("cuda:0")), CudaBackend::kNccl);
  } else {
    EXPECT_NE(
        error_of_choosing("nccl", "cuda:0").find("not in this build"),
        std::string::npos);
  }
}

TEST(ChooseBackendTest, MistakesNameTheValue) {
  EXPECT_NE(
      error_of_choosing("nccl", "cpu")
          .find("the nccl backend sums CUDA tensors, but training runs on cpu"),
      std::string::npos)
      << error_of_choosing("nccl", "cpu");
  EXPECT_NE(
      error_of_choosing("mpi", "cpu")
          .find("unknown distributed backend 'mpi' (auto, gloo or nccl)"),
      std::string::npos)
      << error_of_choosing("mpi", "cpu");
}

} // namespace
} // namespace train
} // namespace fcnlab
