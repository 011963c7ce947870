#pragma once

namespace fcnlab {
namespace testing {

/// DIGITS' all-in-one fcn_alexnet.prototxt (V2, Data layers per phase, the
/// Power shift, crop offset 18, loss and accuracy layers).
extern const char* const kDigitsFcnAlexnet;

} // namespace testing
} // namespace fcnlab
