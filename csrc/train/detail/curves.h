#pragma once

#include <fcnlab/train/trainer.h>

#include <string>
#include <vector>

namespace fcnlab {
namespace train {
namespace detail {

/// Draws DIGITS' training chart as a PNG: loss (train, val), accuracy
/// (train, val pixel accuracy), val mean IU and learning rate by epoch.
void write_curves_png(
    const std::vector<EpochInfo>& history,
    const std::string& path);

} // namespace detail
} // namespace train
} // namespace fcnlab
