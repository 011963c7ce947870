#include "device_flags.h"

#include <fcnlab/util/device.h>

#include <c10/util/Exception.h>

namespace fcnlab {
namespace tools {

void DeviceFlags::add_to(CLI::App* command) {
  command->add_option("--device", device, "cpu, cuda or cuda:N");
  command
      ->add_option(
          "--amp",
          amp,
          "mixed precision: fp32 (off), bf16 (CPU or CUDA), fp16 (CUDA, with "
          "loss scaling) or auto (bf16 on a CPU with native bf16, else fp32)")
      ->check(CLI::IsMember({"fp32", "none", "bf16", "fp16", "auto"}));
}

c10::Device DeviceFlags::parsed_device() const {
  try {
    return parse_device(device);
  } catch (const c10::Error& error) {
    throw CLI::ValidationError("--device", error.what_without_backtrace());
  }
}

Precision DeviceFlags::parsed_precision() const {
  const auto device = parsed_device().type();
  const auto precision = resolve_precision(amp, device);
  try {
    check_precision(precision, device);
  } catch (const c10::Error& error) {
    throw CLI::ValidationError("--amp", error.what_without_backtrace());
  }
  return precision;
}

} // namespace tools
} // namespace fcnlab
