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

constexpr int kPanelWidth = 420;
constexpr int kPanelHeight = 300;

void draw_panel(
    cv::Mat& canvas,
    cv::Point origin,
    const char* title,
    const std::vector<double>& epochs,
    const std::vector<Series>& series,
    bool log_scale) {
  const cv::Rect plot(
      origin.x + 60, origin.y + 30, kPanelWidth - 80, kPanelHeight - 70);
  const cv::Scalar ink(40, 40, 40);
  cv::putText(
      canvas,
      title,
      {origin.x + 60, origin.y + 20},
      cv::FONT_HERSHEY_SIMPLEX,
      0.5,
      ink,
      1,
      cv::LINE_AA);
  cv::rectangle(canvas, plot, ink, 1);
  auto transform = [&](double v) {
    return log_scale ? std::log10(std::max(v, 1e-12)) : v;
  };
  double low = std::numeric_limits<double>::infinity();
  double high = -low;
  for (const auto& s : series) {
    for (const double v : s.values) {
      if (std::isfinite(v)) {
        low = std::min(low, transform(v));
        high = std::max(high, transform(v));
      }
    }
  }
  if (!std::isfinite(low)) {
    return;
  }
  if (high - low < 1e-9) {
    high += 0.5;
    low -= 0.5;
  }
  const double first = epochs.front();
  const double last = std::max(epochs.back(), first + 1);
  auto point = [&](double epoch, double v) {
    return cv::Point(
        plot.x + int((epoch - first) / (last - first) * plot.width),
        plot.y + plot.height -
            int((transform(v) - low) / (high - low) * plot.height));
  };
  char label[32];
  for (int tick = 0; tick <= 4; ++tick) {
    const double t = low + (high - low) * tick / 4;
    std::snprintf(
        label,
        sizeof(label),
        log_scale ? "%.0e" : "%.3g",
        log_scale ? std::pow(10, t) : t);
    const int y = plot.y + plot.height - tick * plot.height / 4;
    cv::putText(
        canvas,
        label,
        {origin.x + 2, y + 4},
        cv::FONT_HERSHEY_SIMPLEX,
        0.35,
        ink,
        1,
        cv::LINE_AA);
  }
  std::snprintf(label, sizeof(label), "epoch %g", first);
  cv::putText(
      canvas,
      label,
      {plot.x, plot.y + plot.height + 15},
      cv::FONT_HERSHEY_SIMPLEX,
      0.35,
      ink,
      1,
      cv::LINE_AA);
  std::snprintf(label, sizeof(label), "%g", last);
  cv::putText(
      canvas,
      label,
      {plot.x + plot.width - 10, plot.y + plot.height + 15},
      cv::FONT_HERSHEY_SIMPLEX,
      0.35,
      ink,
      1,
      cv::LINE_AA);
  int legend_y = plot.y + plot.height + 32;
  int legend_x = plot.x;
  for (const auto& s : series) {
    std::vector<cv::Point> points;
    for (size_t i = 0; i < s.values.size(); ++i) {
      if (std::isfinite(s.values[i])) {
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
    cv::putText(
        canvas,
        s.name,
        {legend_x + 22, legend_y},
        cv::FONT_HERSHEY_SIMPLEX,
        0.4,
        ink,
        1,
        cv::LINE_AA);
    legend_x += 150;
  }
}

} // namespace

void write_curves_png(
    const std::vector<EpochInfo>& history,
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
  for (const auto& info : history) {
    epochs.push_back(double(info.epoch));
    train_loss.values.push_back(info.train_loss);
    val_loss.values.push_back(info.val_loss);
    train_acc.values.push_back(info.train_accuracy);
    val_acc.values.push_back(info.val_pixel_accuracy);
    val_iu.values.push_back(info.val_mean_iu);
    lr.values.push_back(info.learning_rate);
  }
  cv::Mat canvas(
      2 * kPanelHeight, 2 * kPanelWidth, CV_8UC3, cv::Scalar::all(255));
  draw_panel(canvas, {0, 0}, "loss", epochs, {train_loss, val_loss}, false);
  draw_panel(
      canvas,
      {kPanelWidth, 0},
      "accuracy (background included)",
      epochs,
      {train_acc, val_acc},
      false);
  draw_panel(
      canvas, {0, kPanelHeight}, "validation mean IU", epochs, {val_iu}, false);
  draw_panel(
      canvas, {kPanelWidth, kPanelHeight}, "learning rate", epochs, {lr}, true);
  data::write_image(
      at::from_blob(canvas.data, {canvas.rows, canvas.cols, 3}, at::kByte),
      path);
}

} // namespace detail
} // namespace train
} // namespace fcnlab
