#pragma once

#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace fcnlab {

/// Arithmetic of forward passes: float32 throughout, or mixed precision with
/// LibTorch's autocast (convolutions and matrix products in bfloat16 or
/// float16, reductions and the loss in float32; weights stay float32).
enum class Precision { kFloat32, kBFloat16, kFloat16 };

/// "fp32" (or "none"), "bf16", "fp16"; anything else is a c10::Error naming
/// the text.
Precision parse_precision(const std::string& text);
std::string to_string(Precision precision);

/// Throws a c10::Error when `precision` cannot run on `device`: float16
/// autocast needs CUDA (CPU autocast has bfloat16 only on LibTorch 1.x, and
/// float16 training needs the loss scaling that only CUDA kernels provide).
void check_precision(Precision precision, c10::DeviceType device);

/// Like parse_precision, and "auto": the fastest precision `device` runs
/// natively (bf16 on a CPU with AVX512-BF16 or AMX-BF16, else fp32).
Precision resolve_precision(const std::string& text, c10::DeviceType device);

/// Whether this CPU computes bfloat16 products in hardware (AVX512-BF16 or
/// AMX-BF16); elsewhere bf16 is emulated and slower than fp32. Asked once.
bool cpu_has_native_bf16();

/// Whether autocast is on for `device` in this thread.
bool autocast_enabled(c10::DeviceType device);

/// The precision autocast runs `device`'s work in on this thread: kFloat32
/// when it is off.
Precision autocast_precision(c10::DeviceType device);

/// Autocast on `device` in `precision` for this thread while alive, entered
/// and left as Python's torch.autocast does: the previous state (enabled,
/// dtype) comes back on destruction, and the cast cache is cleared when the
/// outermost autocast ends. kFloat32 changes nothing. Nests. bf16 on a CPU
/// without native bf16 warns once that it is slower than fp32.
class Autocast {
 public:
  Autocast(c10::DeviceType device, Precision precision);
  ~Autocast();
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  c10::DeviceType device_;
  bool active_;
  bool previous_enabled_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::Undefined;
};

} // namespace fcnlab
