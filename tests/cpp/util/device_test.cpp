#include <fcnlab/util/autocast.h>
#include <fcnlab/util/device.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>

namespace fcnlab {
namespace {

std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const c10::Error& error) {
    return error.what_without_backtrace();
  }
  return "";
}

TEST(DeviceTest, ParsesCpuAndRefusesOtherNames) {
  EXPECT_TRUE(parse_device("cpu").is_cpu());
  for (const std::string bad : {"gpu", "", "cuda:x", "mps"}) {
    const auto message = error_of([&] { parse_device(bad); });
    EXPECT_NE(
        message.find("device \"" + bad + "\" is not cpu, cuda or cuda:N"),
        std::string::npos)
        << bad << ": " << message;
  }
}

TEST(DeviceTest, CudaWithoutAGpuIsANamedError) {
  if (cuda_available()) {
    GTEST_SKIP() << "a GPU is visible";
  }
  for (const std::string asked : {"cuda", "cuda:0", "cuda:3"}) {
    const auto message = error_of([&] { parse_device(asked); });
    EXPECT_NE(
        message.find("device \"" + asked + "\" was asked for"),
        std::string::npos)
        << message;
    EXPECT_NE(message.find("use cpu instead"), std::string::npos) << message;
  }
}

TEST(PrecisionTest, NamesRoundTripAndUnknownOnesAreRefused) {
  for (const auto precision :
       {Precision::kFloat32, Precision::kBFloat16, Precision::kFloat16}) {
    EXPECT_EQ(parse_precision(to_string(precision)), precision);
  }
  EXPECT_EQ(parse_precision("none"), Precision::kFloat32);
  EXPECT_NE(
      error_of([] { parse_precision("half"); }).find("precision \"half\""),
      std::string::npos);
  EXPECT_NE(
      error_of([] {
        check_precision(Precision::kFloat16, c10::DeviceType::CPU);
      }).find("fp16 needs a CUDA device"),
      std::string::npos);
  EXPECT_NO_THROW(check_precision(Precision::kBFloat16, c10::DeviceType::CPU));
}

// The kernel's reading of CPUID, a second opinion on cpu_has_native_bf16().
bool cpuinfo_lists_bf16() {
  std::ifstream in("/proc/cpuinfo");
  std::stringstream text;
  text << in.rdbuf();
  const std::string flags = text.str();
  return flags.find(" avx512_bf16") != std::string::npos ||
      flags.find(" amx_bf16") != std::string::npos;
}

TEST(PrecisionTest, AutoPicksBFloat16OnlyOnACpuWithNativeBFloat16) {
  if (!std::ifstream("/proc/cpuinfo")) {
    GTEST_SKIP() << "no /proc/cpuinfo to compare with";
  }
  EXPECT_EQ(cpu_has_native_bf16(), cpuinfo_lists_bf16());
  EXPECT_EQ(
      resolve_precision("auto", c10::DeviceType::CPU),
      cpuinfo_lists_bf16() ? Precision::kBFloat16 : Precision::kFloat32);
  EXPECT_EQ(
      resolve_precision("auto", c10::DeviceType::CUDA), Precision::kFloat32);
  EXPECT_EQ(
      resolve_precision("bf16", c10::DeviceType::CPU), Precision::kBFloat16);
  EXPECT_NE(
      error_of([] {
        resolve_precision("automatic", c10::DeviceType::CPU);
      }).find("precision \"automatic\""),
      std::string::npos);
}

TEST(AutocastTest, ReportsThePrecisionItRunsIn) {
  EXPECT_EQ(autocast_precision(c10::DeviceType::CPU), Precision::kFloat32);
  {
    const Autocast on(c10::DeviceType::CPU, Precision::kBFloat16);
    EXPECT_EQ(autocast_precision(c10::DeviceType::CPU), Precision::kBFloat16);
    EXPECT_EQ(autocast_precision(c10::DeviceType::CUDA), Precision::kFloat32);
  }
  EXPECT_EQ(autocast_precision(c10::DeviceType::CPU), Precision::kFloat32);
}

TEST(AutocastTest, ConvolvesInBFloat16OnTheCpuAndRestoresTheState) {
  const auto x = at::randn({1, 3, 8, 8});
  const auto w = at::randn({4, 3, 3, 3});
  // What autocast must do: cast the inputs to bfloat16, then convolve.
  const auto expected =
      at::conv2d(x.to(at::kBFloat16), w.to(at::kBFloat16)).to(at::kFloat);
  EXPECT_EQ(at::conv2d(x, w).scalar_type(), at::kFloat);
  EXPECT_FALSE(autocast_enabled(c10::DeviceType::CPU));
  {
    const Autocast outer(c10::DeviceType::CPU, Precision::kBFloat16);
    EXPECT_TRUE(autocast_enabled(c10::DeviceType::CPU));
    const auto y = at::conv2d(x, w);
    EXPECT_EQ(y.scalar_type(), at::kBFloat16);
    EXPECT_TRUE(at::equal(y.to(at::kFloat), expected));
    {
      const Autocast off(c10::DeviceType::CPU, Precision::kFloat32);
      EXPECT_TRUE(autocast_enabled(c10::DeviceType::CPU)); // fp32: no change
      const Autocast inner(c10::DeviceType::CPU, Precision::kBFloat16);
      EXPECT_EQ(
          at::mm(x.view({3, 64}), x.view({64, 3})).scalar_type(),
          at::kBFloat16);
    }
    EXPECT_TRUE(autocast_enabled(c10::DeviceType::CPU)); // the outer one
  }
  EXPECT_FALSE(autocast_enabled(c10::DeviceType::CPU));
  EXPECT_EQ(at::conv2d(x, w).scalar_type(), at::kFloat);
  EXPECT_THROW(Autocast(c10::DeviceType::CPU, Precision::kFloat16), c10::Error);
  EXPECT_FALSE(autocast_enabled(c10::DeviceType::CPU));
}

} // namespace
} // namespace fcnlab
