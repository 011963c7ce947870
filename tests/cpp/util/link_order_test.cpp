// The C++ runtime's own definitions win over the copies of them that some
// LibTorch builds export (PyTorch's pip wheels export std::filesystem from
// libtorch.so, and its remove_all crashed a test's clean-up on a GPU
// machine). With Debian's LibTorch there is nothing to win over, and the
// test checks the same lookup.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include <dlfcn.h>

namespace {

std::string file_defining(const void* address) {
  Dl_info info{};
  return dladdr(address, &info) != 0 && info.dli_fname != nullptr
      ? info.dli_fname
      : "";
}

TEST(LinkOrderTest, StdFilesystemComesFromTheCppRuntime) {
  using RemoveAll = std::uintmax_t (*)(const std::filesystem::path&);
  const auto remove_all = static_cast<RemoveAll>(&std::filesystem::remove_all);
  const auto file = file_defining(reinterpret_cast<const void*>(remove_all));
  EXPECT_NE(file.find("libstdc++"), std::string::npos) << file;
}

} // namespace
