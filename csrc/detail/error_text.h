#pragma once

#include <c10/util/Exception.h>

#include <exception>
#include <string>

namespace fcnlab {
namespace detail {

/// The message of an exception thrown by LibTorch while reading a file:
/// a c10::Error without its C++ backtrace, or what() of the others (the
/// TorchScript type parser, say, throws its own kinds).
inline std::string error_text(const std::exception& error) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&error)) {
    return c10_error->what_without_backtrace();
  }
  return error.what();
}

} // namespace detail
} // namespace fcnlab
