#pragma once

#include <gtest/gtest.h>
#include <torch/utils.h>

#include <filesystem>
#include <string>

namespace fcnlab {
namespace testing {

/// Seeds LibTorch's generator before every test and gives each test a fresh
/// temporary directory, removed afterwards.
class SeededTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(0);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
        ("fcnlab_" + std::string(info->test_suite_name()) + "_" + info->name() +
         "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
  }
  /// A path inside this test's temporary directory.
  std::string path(const std::string& name) const {
    return (dir_ / name).string();
  }

  std::filesystem::path dir_;
};

} // namespace testing
} // namespace fcnlab
