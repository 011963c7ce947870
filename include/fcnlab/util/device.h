#pragma once

#include <c10/core/Device.h>

#include <string>

namespace fcnlab {

/// Parses "cpu", "cuda" or "cuda:N" and checks that the device exists here.
/// Throws a c10::Error that names the text and says what is missing (a
/// build without CUDA, no visible GPU, an index past the last GPU).
c10::Device parse_device(const std::string& text);

/// Whether this build of LibTorch has CUDA and a GPU is visible.
bool cuda_available();

} // namespace fcnlab
