#pragma once

#include <fcnlab/train/hooks.h>

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace fcnlab {
namespace train {
namespace detail {

/// Draws DIGITS' training chart as a PNG: loss (train, val), accuracy
/// (train, val pixel accuracy), val mean IU and learning rate (log scale)
/// by epoch, with grid lines; under them, when an epoch was validated, the
/// per-class IU of the last such epoch as bars named by `class_names`.
void write_curves_png(
    const std::vector<EpochInfo>& history,
    const std::vector<std::string>& class_names,
    const std::string& path);

/// Tick values of an axis covering [low, high]: on a log axis each decade
/// 10^k from the one at or below low to the one at or above high; on a
/// linear axis multiples of the smallest 1, 2 or 5 x 10^k step that is at
/// least a fifth of the range, from the one at or below low to the one at
/// or above high. The axis is drawn from the first tick to the last.
std::vector<double> axis_ticks(double low, double high, bool log_scale);

/// Bars of `iu` (in [0, 1]; NaN: "n/a") in `area` of `canvas`, one per
/// class, labelled with `names` (or the index); a bar of IU v fills v of the
/// plot's height, which is `area` less 20 pixels at the top and 60 at the
/// bottom.
void draw_class_iu_bars(
    cv::Mat& canvas,
    const cv::Rect& area,
    const std::vector<std::string>& names,
    const std::vector<double>& iu,
    const std::string& title);

} // namespace detail
} // namespace train
} // namespace fcnlab
