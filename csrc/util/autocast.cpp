#include <fcnlab/util/autocast.h>

#include <ATen/autocast_mode.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

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

Precision autocast_precision(c10::DeviceType device) {
  if (!enabled_on(device)) {
    return Precision::kFloat32;
  }
  return autocast_dtype(device) == c10::ScalarType::Half ? Precision::kFloat16
                                                         : Precision::kBFloat16;
}

bool cpu_has_native_bf16() {
  static const bool native = [] {
#if defined(__x86_64__) || defined(__i386__)
    // Leaf 7: AMX-BF16 is EDX bit 22 of subleaf 0, AVX512-BF16 EAX bit 5 of
    // subleaf 1.
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
      return false;
    }
    const bool amx = (edx >> 22) & 1U;
    const unsigned subleaves = eax;
    bool avx512 = false;
    if (subleaves >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) {
      avx512 = (eax >> 5) & 1U;
    }
    return amx || avx512;
#else
    return false;
#endif
  }();
  return native;
}

Precision resolve_precision(const std::string& text, c10::DeviceType device) {
  if (text != "auto") {
    return parse_precision(text);
  }
  // CUDA keeps fp32: its reduced precisions are a choice of speed over
  // accuracy that the user makes with --amp bf16 or fp16.
  return device == c10::DeviceType::CPU && cpu_has_native_bf16()
      ? Precision::kBFloat16
      : Precision::kFloat32;
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
  if (device == c10::DeviceType::CPU && precision == Precision::kBFloat16 &&
      !cpu_has_native_bf16()) {
    TORCH_WARN_ONCE(
        "bf16 on this CPU is emulated (no AVX512-BF16 or AMX-BF16) and "
        "slower than fp32; --amp auto picks fp32 here");
  }
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
