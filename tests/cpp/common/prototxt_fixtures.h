#pragma once

namespace fcnlab {
namespace testing {

/// DIGITS' all-in-one fcn_alexnet.prototxt (V2, Data layers per phase, the
/// Power shift, crop offset 18, loss and accuracy layers).
extern const char* const kDigitsFcnAlexnet;

/// SIFT Flow's shape in FCN's train style: a Python data layer with tops
/// data, sem and geo; one trunk; a semantic head of 21 classes (score_sem,
/// loss_sem) and a geometric head of 3 (score_geo, relu_geo, loss_geo).
extern const char* const kTwoHeadNet;

} // namespace testing
} // namespace fcnlab
