#include "detail/curves.h"

#include <fcnlab/data/image_io.h>

#include <ATen/ATen.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace fcnlab {
namespace train {
namespace detail {
namespace {

struct Series {
  const char* name;
  std::vector<double> values;
  cv::Scalar color;
};

// How a panel's vertical axis is scaled: to its data, on decades, or to
// [0, 1] (accuracies and IU).
enum class Scale { kLinear, kLog, kFraction };

constexpr int kPanelWidth = 420;
constexpr int kPanelHeight = 300;
const cv::Scalar kInk(40, 40, 40);
const cv::Scalar kGrid(225, 225, 225);

void text(cv::Mat& canvas, const std::string& s, cv::Point at, double size) {
  cv::putText(
      canvas, s, at, cv::FONT_HERSHEY_SIMPLEX, size, kInk, 1, cv::LINE_AA);
}

std::string tick_label(double value, bool log_scale) {
  char label[32];
  if (log_scale) {
    std::snprintf(
        label, sizeof(label), "1e%d", int(std::lround(std::log10(value))));
  } else {
    std::snprintf(
        label, sizeof(label), "%.3g", std::abs(value) < 1e-12 ? 0 : value);
  }
  return label;
}

void draw_panel(
    cv::Mat& canvas,
    cv::Point origin,
    const char* title,
    const std::vector<double>& epochs,
    const std::vector<Series>& series,
    Scale scale) {
  const bool log_scale = scale == Scale::kLog;
  const cv::Rect plot(
      origin.x + 60, origin.y + 30, kPanelWidth - 80, kPanelHeight - 70);
  text(canvas, title, {origin.x + 60, origin.y + 20}, 0.5);
  double low = std::numeric_limits<double>::infinity();
  double high = -low;
  for (const auto& s : series) {
    for (const double v : s.values) {
      if (std::isfinite(v) && (!log_scale || v > 0)) {
        low = std::min(low, v);
        high = std::max(high, v);
      }
    }
  }
  if (!std::isfinite(low)) {
    cv::rectangle(canvas, plot, kInk, 1);
    return;
  }
  const auto y_ticks = scale == Scale::kFraction
      ? axis_ticks(0, 1, false)
      : axis_ticks(low, high, log_scale);
  // Whole epochs while they fit; a 1-2-5 step beyond.
  auto x_ticks = axis_ticks(epochs.front(), epochs.back(), false);
  if (epochs.back() - epochs.front() <= 10) {
    x_ticks.clear();
    for (double e = epochs.front();
         e <= std::max(epochs.back(), epochs.front() + 1);
         ++e) {
      x_ticks.push_back(e);
    }
  }
  auto transform = [&](double v) { return log_scale ? std::log10(v) : v; };
  const double y0 = transform(y_ticks.front()), y1 = transform(y_ticks.back());
  const double x0 = x_ticks.front(), x1 = x_ticks.back();
  auto point = [&](double epoch, double v) {
    return cv::Point(
        plot.x + int(std::lround((epoch - x0) / (x1 - x0) * plot.width)),
        plot.y + plot.height -
            int(std::lround((transform(v) - y0) / (y1 - y0) * plot.height)));
  };
  for (const double tick : y_ticks) {
    const int y = point(x0, tick).y;
    cv::line(canvas, {plot.x, y}, {plot.x + plot.width, y}, kGrid, 1);
    text(canvas, tick_label(tick, log_scale), {origin.x + 4, y + 4}, 0.35);
  }
  for (const double tick : x_ticks) {
    const int x = point(tick, y_ticks.front()).x;
    cv::line(canvas, {x, plot.y}, {x, plot.y + plot.height}, kGrid, 1);
    text(
        canvas,
        tick_label(tick, false),
        {x - 6, plot.y + plot.height + 14},
        0.35);
  }
  cv::rectangle(canvas, plot, kInk, 1);
  text(
      canvas,
      "epoch",
      {plot.x + plot.width - 34, plot.y + plot.height + 28},
      0.35);
  int legend_x = plot.x;
  const int legend_y = plot.y + plot.height + 30;
  for (const auto& s : series) {
    std::vector<cv::Point> points;
    for (size_t i = 0; i < s.values.size(); ++i) {
      if (std::isfinite(s.values[i]) && (!log_scale || s.values[i] > 0)) {
        points.push_back(point(epochs[i], s.values[i]));
        cv::circle(canvas, points.back(), 2, s.color, cv::FILLED, cv::LINE_AA);
      }
    }
    if (points.size() > 1) {
      cv::polylines(canvas, points, false, s.color, 2, cv::LINE_AA);
    }
    cv::line(
        canvas,
        {legend_x, legend_y - 4},
        {legend_x + 18, legend_y - 4},
        s.color,
        2);
    text(canvas, s.name, {legend_x + 22, legend_y}, 0.4);
    legend_x += 130;
  }
}

} // namespace

std::vector<double> axis_ticks(double low, double high, bool log_scale) {
  std::vector<double> ticks;
  if (log_scale) {
    int first = int(std::floor(std::log10(low) + 1e-9));
    int last = int(std::ceil(std::log10(high) - 1e-9));
    last = std::max(last, first + 1);
    for (int k = first; k <= last; ++k) {
      ticks.push_back(std::pow(10.0, k));
    }
    return ticks;
  }
  if (high - low < 1e-12) {
    low -= 0.5;
    high += 0.5;
  }
  // About five intervals: the step is the next 1, 2 or 5 x 10^k up.
  const double raw = (high - low) / 5;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * magnitude;
  for (const double factor : {1.0, 2.0, 5.0}) {
    if (factor * magnitude >= raw * (1 - 1e-9)) {
      step = factor * magnitude;
      break;
    }
  }
  const double first = std::floor(low / step + 1e-9);
  const double last = std::ceil(high / step - 1e-9);
  for (double k = first; k <= last + 1e-9; ++k) {
    ticks.push_back(k * step);
  }
  return ticks;
}

void draw_class_iu_bars(
    cv::Mat& canvas,
    const cv::Rect& area,
    const std::vector<std::string>& names,
    const std::vector<double>& iu,
    const std::string& title) {
  const cv::Rect plot(
      area.x + 60, area.y + 20, area.width - 80, area.height - 80);
  text(canvas, title, {plot.x, area.y + 14}, 0.5);
  for (const double tick : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    const int y = plot.y + plot.height - int(std::lround(tick * plot.height));
    cv::line(canvas, {plot.x, y}, {plot.x + plot.width, y}, kGrid, 1);
    text(canvas, tick_label(tick, false), {area.x + 20, y + 4}, 0.35);
  }
  cv::rectangle(canvas, plot, kInk, 1); // under the bars
  const int count = static_cast<int>(iu.size());
  const double slot = count ? double(plot.width) / count : 0;
  for (int c = 0; c < count; ++c) {
    const int left = plot.x + int(c * slot + slot * 0.15);
    const int right = plot.x + int((c + 1) * slot - slot * 0.15);
    const std::string name =
        c < int(names.size()) ? names[c] : std::to_string(c);
    if (std::isfinite(iu[c])) {
      const int height =
          int(std::lround(std::clamp(iu[c], 0.0, 1.0) * plot.height));
      if (height > 0) {
        cv::rectangle(
            canvas,
            cv::Rect(left, plot.y + plot.height - height, right - left, height),
            cv::Scalar(60, 160, 60),
            cv::FILLED);
      }
    } else {
      text(canvas, "n/a", {left, plot.y + plot.height - 4}, 0.3);
    }
    // Names written downwards-left under their bars, as far as they fit.
    cv::Mat label(14, 56, CV_8UC3, cv::Scalar::all(255));
    cv::putText(
        label,
        name.substr(0, 9),
        {1, 11},
        cv::FONT_HERSHEY_SIMPLEX,
        0.33,
        kInk,
        1,
        cv::LINE_AA);
    cv::Mat turned;
    cv::rotate(label, turned, cv::ROTATE_90_COUNTERCLOCKWISE);
    const int x = std::min((left + right) / 2 - 7, canvas.cols - turned.cols);
    const cv::Rect target(
        x, plot.y + plot.height + 2, turned.cols, turned.rows);
    if ((target & cv::Rect(0, 0, canvas.cols, canvas.rows)) == target) {
      turned.copyTo(canvas(target));
    }
  }
}

void write_curves_png(
    const std::vector<EpochInfo>& history,
    const std::vector<std::string>& class_names,
    const std::string& path) {
  if (history.empty()) {
    return;
  }
  std::vector<double> epochs;
  Series train_loss{"train loss", {}, {200, 100, 30}};
  Series val_loss{"val loss", {}, {30, 120, 230}};
  Series train_acc{"train accuracy", {}, {200, 100, 30}};
  Series val_acc{"val accuracy", {}, {30, 120, 230}};
  Series val_iu{"val mean IU", {}, {60, 160, 60}};
  Series lr{"learning rate", {}, {150, 60, 150}};
  const EpochInfo* validated = nullptr;
  for (const auto& info : history) {
    epochs.push_back(double(info.epoch));
    train_loss.values.push_back(info.train_loss);
    val_loss.values.push_back(info.val_loss);
    train_acc.values.push_back(info.train_accuracy);
    val_acc.values.push_back(info.val_pixel_accuracy);
    val_iu.values.push_back(info.val_mean_iu);
    lr.values.push_back(info.learning_rate);
    if (!info.val_class_iu.empty()) {
      validated = &info;
    }
  }
  const int rows = validated ? 3 : 2;
  cv::Mat canvas(
      rows * kPanelHeight, 2 * kPanelWidth, CV_8UC3, cv::Scalar::all(255));
  draw_panel(
      canvas, {0, 0}, "loss", epochs, {train_loss, val_loss}, Scale::kLinear);
  draw_panel(
      canvas,
      {kPanelWidth, 0},
      "accuracy (background included)",
      epochs,
      {train_acc, val_acc},
      Scale::kFraction);
  draw_panel(
      canvas,
      {0, kPanelHeight},
      "validation mean IU",
      epochs,
      {val_iu},
      Scale::kFraction);
  draw_panel(
      canvas,
      {kPanelWidth, kPanelHeight},
      "learning rate",
      epochs,
      {lr},
      Scale::kLog);
  if (validated) {
    draw_class_iu_bars(
        canvas,
        cv::Rect(0, 2 * kPanelHeight, 2 * kPanelWidth, kPanelHeight),
        class_names,
        validated->val_class_iu,
        "validation IU per class, epoch " + std::to_string(validated->epoch));
  }
  data::write_image(
      at::from_blob(canvas.data, {canvas.rows, canvas.cols, 3}, at::kByte),
      path);
}

} // namespace detail
} // namespace train
} // namespace fcnlab
