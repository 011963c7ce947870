#include <fcnlab/util/device.h>

#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>

#include <optional>

namespace fcnlab {

bool cuda_available() {
  return torch::cuda::is_available();
}

c10::Device parse_device(const std::string& text) {
  std::optional<c10::Device> device;
  try {
    device = c10::Device(text);
  } catch (const c10::Error&) {
  }
  TORCH_CHECK_VALUE(
      device && (device->is_cpu() || device->is_cuda()),
      "device \"",
      text,
      "\" is not cpu, cuda or cuda:N");
  if (device->is_cpu()) {
    return *device;
  }
  const auto count = static_cast<int64_t>(torch::cuda::device_count());
  TORCH_CHECK(
      count > 0,
      "device \"",
      text,
      "\" was asked for, but ",
      c10::impl::hasDeviceGuardImpl(c10::DeviceType::CUDA)
          ? "no CUDA GPU is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES)"
          : "this build of fcnlab links a LibTorch without CUDA "
            "(see scripts/build-cuda.sh)",
      "; use cpu instead");
  TORCH_CHECK(
      !device->has_index() || device->index() < count,
      "device \"",
      text,
      "\" was asked for, but only ",
      count,
      " CUDA GPU",
      count == 1 ? " is" : "s are",
      " visible (cuda:0",
      count > 1 ? " to cuda:" + std::to_string(count - 1) : std::string(),
      ")");
  return *device;
}

} // namespace fcnlab
