#include <fcnlab/train/metrics.h>

#include <fcnlab/data/image_io.h>

#include <ATen/ATen.h>

#include <opencv2/imgproc.hpp>

#include <cstdio>

namespace fcnlab {
namespace train {

void write_confusion_png(
    const ConfusionMatrix& matrix,
    const std::vector<std::string>& class_names,
    const std::string& path) {
  const int n = static_cast<int>(matrix.num_classes());
  const int cell = 26;
  const int margin = 110;
  cv::Mat canvas(
      margin + n * cell + 10,
      margin + n * cell + 10,
      CV_8UC3,
      cv::Scalar::all(255));
  const auto counts = matrix.counts().to(at::kDouble);
  const auto rows = counts.sum(1, /*keepdim=*/true).clamp_min(1);
  const auto shares = (counts / rows).contiguous();
  const double* share = shares.data_ptr<double>();
  auto name = [&](int c) {
    return size_t(c) < class_names.size() ? class_names[size_t(c)]
                                          : std::to_string(c);
  };
  char text[16];
  for (int t = 0; t < n; ++t) {
    cv::putText(
        canvas,
        name(t),
        {4, margin + t * cell + 17},
        cv::FONT_HERSHEY_SIMPLEX,
        0.35,
        cv::Scalar::all(0),
        1,
        cv::LINE_AA);
    for (int p = 0; p < n; ++p) {
      const double v = share[t * n + p];
      // White (0) to dark blue (1).
      const cv::Scalar color(255 - 120 * v, 255 - 200 * v, 255 - 230 * v);
      const cv::Rect box(
          margin + p * cell, margin + t * cell, cell - 1, cell - 1);
      cv::rectangle(canvas, box, color, cv::FILLED);
      if (v >= 0.005) {
        std::snprintf(text, sizeof(text), "%.0f", 100 * v);
        cv::putText(
            canvas,
            text,
            {box.x + 3, box.y + 17},
            cv::FONT_HERSHEY_SIMPLEX,
            0.33,
            v > 0.5 ? cv::Scalar::all(255) : cv::Scalar::all(0),
            1,
            cv::LINE_AA);
      }
    }
  }
  // Column names written vertically above the grid.
  for (int p = 0; p < n; ++p) {
    cv::Mat label(16, margin - 6, CV_8UC3, cv::Scalar::all(255));
    cv::putText(
        label,
        name(p),
        {2, 12},
        cv::FONT_HERSHEY_SIMPLEX,
        0.35,
        cv::Scalar::all(0),
        1,
        cv::LINE_AA);
    cv::Mat turned;
    cv::rotate(label, turned, cv::ROTATE_90_COUNTERCLOCKWISE);
    turned.copyTo(
        canvas(cv::Rect(margin + p * cell + 5, 2, turned.cols, turned.rows)));
  }
  cv::putText(
      canvas,
      "true \\ predicted (% of row)",
      {4, margin - 8},
      cv::FONT_HERSHEY_SIMPLEX,
      0.3,
      cv::Scalar::all(80),
      1,
      cv::LINE_AA);
  data::write_image(
      at::from_blob(canvas.data, {canvas.rows, canvas.cols, 3}, at::kByte),
      path);
}

} // namespace train
} // namespace fcnlab
