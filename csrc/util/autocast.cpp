#include <fcnlab/util/autocast.h>

#include <ATen/autocast_mode.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

namespace fcnlab {
namespace {

// LibTorch 2.4 turned the per-device functions into ones taking the device
// type; 1.x has a pair for CPU and one for CUDA ("gpu").
#if TORCH_VERSION_MAJOR > 2 || \
    (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool enabled_on(c10::DeviceType device) {
  return at::autocast::is_autocast_enabled(device);
}
void set_autocast_enabled(c10::DeviceType device, bool enabled) {
  at::autocast::set_autocast_enabled(device, enabled);
}
c10::ScalarType autocast_dtype(c10::DeviceType device) {
  return at::autocast::get_autocast_dtype(device);
}
void set_autocast_dtype(c10::DeviceType device, c10::ScalarType dtype) {
  at::autocast::set_autocast_dtype(device, dtype);
}
#else
bool enabled_on(c10::DeviceType device) {
  return device == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled()
                                        : at::autocast::is_enabled();
}
void set_autocast_enabled(c10::DeviceType device, bool enabled) {
  device == c10::DeviceType::CPU ? at::autocast::set_cpu_enabled(enabled)
                                 : at::autocast::set_enabled(enabled);
}
c10::ScalarType autocast_dtype(c10::DeviceType device) {
  return device == c10::DeviceType::CPU
      ? at::autocast::get_autocast_cpu_dtype()
      : at::autocast::get_autocast_gpu_dtype();
}
void set_autocast_dtype(c10::DeviceType device, c10::ScalarType dtype) {
  device == c10::DeviceType::CPU ? at::autocast::set_autocast_cpu_dtype(dtype)
                                 : at::autocast::set_autocast_gpu_dtype(dtype);
}
#endif

c10::ScalarType dtype_of(Precision precision) {
  return precision == Precision::kFloat16 ? c10::ScalarType::Half
                                          : c10::ScalarType::BFloat16;
}

} // namespace

bool autocast_enabled(c10::DeviceType device) {
  return enabled_on(device);
}

Precision parse_precision(const std::string& text) {
  if (text == "fp32" || text == "none") {
    return Precision::kFloat32;
  }
  if (text == "bf16") {
    return Precision::kBFloat16;
  }
  TORCH_CHECK_VALUE(
      text == "fp16",
      "precision \"",
      text,
      "\" is not fp32 (or none), bf16 or fp16");
  return Precision::kFloat16;
}

std::string to_string(Precision precision) {
  switch (precision) {
    case Precision::kFloat32:
      return "fp32";
    case Precision::kBFloat16:
      return "bf16";
    case Precision::kFloat16:
      return "fp16";
  }
  return "?";
}

void check_precision(Precision precision, c10::DeviceType device) {
  TORCH_CHECK_VALUE(
      device == c10::DeviceType::CPU || device == c10::DeviceType::CUDA,
      "mixed precision runs on cpu or cuda only");
  TORCH_CHECK_VALUE(
      precision != Precision::kFloat16 || device == c10::DeviceType::CUDA,
      "precision fp16 needs a CUDA device; on the CPU use bf16");
}

Autocast::Autocast(c10::DeviceType device, Precision precision)
    : device_(device), active_(precision != Precision::kFloat32) {
  if (!active_) {
    return;
  }
  check_precision(precision, device);
  previous_enabled_ = enabled_on(device_);
  previous_dtype_ = autocast_dtype(device_);
  set_autocast_dtype(device_, dtype_of(precision));
  set_autocast_enabled(device_, true);
  at::autocast::increment_nesting();
}

Autocast::~Autocast() {
  if (!active_) {
    return;
  }
  if (at::autocast::decrement_nesting() == 0) {
    at::autocast::clear_cache();
  }
  set_autocast_enabled(device_, previous_enabled_);
  set_autocast_dtype(device_, previous_dtype_);
}

} // namespace fcnlab
