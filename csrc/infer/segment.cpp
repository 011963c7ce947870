#include <fcnlab/infer/segment.h>

#include <fcnlab/data/image_io.h>
#include <fcnlab/data/label_io.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <opencv2/imgproc.hpp>

#include <filesystem>

namespace fcnlab {
namespace infer {
Segmentation segment(models::FcnNet model, const at::Tensor& image_bgr) {
  TORCH_CHECK_VALUE(
      image_bgr.dim() == 3 && image_bgr.size(2) == 3,
      "segment expects an H x W x 3 BGR image, got ",
      image_bgr.sizes());
  const bool was_training = model->is_training();
  model->eval();
  torch::NoGradGuard no_grad;
  const auto device = model->device();
  const auto input = data::to_network_input(image_bgr).unsqueeze(0).to(device);
  const auto scores = model->forward(input)[0].to(at::kFloat);
  model->train(was_training);
  TORCH_CHECK_VALUE(
      scores.size(1) == image_bgr.size(0) &&
          scores.size(2) == image_bgr.size(1),
      model->spec().name,
      " scores a ",
      scores.size(1),
      "x",
      scores.size(2),
      " map for a ",
      image_bgr.size(0),
      "x",
      image_bgr.size(1),
      " image; segment needs scores at the image's size (a classifier "
      "becomes an FCN by `fcnlab convolutionalize`)");
  return {
      scores.argmax(0).to(at::kCPU, at::kByte), scores.softmax(0).to(at::kCPU)};
}

at::Tensor overlay(
    const at::Tensor& image_bgr,
    const at::Tensor& classes,
    const data::Palette& palette,
    double opacity) {
  TORCH_CHECK_VALUE(
      opacity >= 0 && opacity <= 1, "opacity must be in [0, 1], got ", opacity);
  TORCH_CHECK_VALUE(
      image_bgr.dim() == 3 && classes.dim() == 2 &&
          image_bgr.size(0) == classes.size(0) &&
          image_bgr.size(1) == classes.size(1),
      "overlay needs an H x W x 3 image and an H x W class map, got ",
      image_bgr.sizes(),
      " and ",
      classes.sizes());
  const auto bgr_palette = data::palette_tensor(palette).flip({1});
  const auto colors =
      bgr_palette.index_select(0, classes.to(at::kLong).flatten())
          .view(image_bgr.sizes())
          .to(at::kFloat);
  const auto image = image_bgr.to(at::kFloat);
  const auto blended = image * (1 - opacity) + colors * opacity;
  const auto foreground = (classes != 0).unsqueeze(2);
  return at::where(foreground, blended.round(), image).to(at::kByte);
}

at::Tensor with_legend(
    const at::Tensor& picture,
    const at::Tensor& classes,
    const data::Palette& palette,
    const std::vector<std::string>& class_names) {
  const auto present = std::get<0>(at::_unique(classes.to(at::kLong)));
  std::vector<int64_t> shown;
  for (int64_t i = 0; i < present.size(0); ++i) {
    if (present[i].item<int64_t>() != 0) {
      shown.push_back(present[i].item<int64_t>());
    }
  }
  const int row = 22;
  const int width = 170;
  const int height =
      std::max<int>(int(picture.size(0)), row * int(shown.size() + 1) + 8);
  cv::Mat canvas(
      height, int(picture.size(1)) + width, CV_8UC3, cv::Scalar::all(255));
  const auto source = picture.contiguous();
  cv::Mat(
      int(picture.size(0)),
      int(picture.size(1)),
      CV_8UC3,
      source.data_ptr<uint8_t>())
      .copyTo(
          canvas(cv::Rect(0, 0, int(picture.size(1)), int(picture.size(0)))));
  const int x = int(picture.size(1)) + 8;
  cv::putText(
      canvas,
      shown.empty() ? "no objects" : "classes",
      {x, 16},
      cv::FONT_HERSHEY_SIMPLEX,
      0.45,
      cv::Scalar::all(0),
      1,
      cv::LINE_AA);
  for (size_t i = 0; i < shown.size(); ++i) {
    const auto c = static_cast<size_t>(shown[i]);
    const int y = row * int(i + 1) + 6;
    cv::rectangle(
        canvas,
        cv::Rect(x, y, 16, 16),
        cv::Scalar(palette[c].b, palette[c].g, palette[c].r),
        cv::FILLED);
    const std::string name =
        c < class_names.size() ? class_names[c] : "class " + std::to_string(c);
    cv::putText(
        canvas,
        name,
        {x + 22, y + 13},
        cv::FONT_HERSHEY_SIMPLEX,
        0.45,
        cv::Scalar::all(0),
        1,
        cv::LINE_AA);
  }
  return at::from_blob(canvas.data, {canvas.rows, canvas.cols, 3}, at::kByte)
      .clone();
}

std::vector<SegmentedFile> segment_files(
    models::FcnNet model,
    const std::vector<std::string>& images,
    const std::string& out_dir,
    const data::Palette& palette,
    const std::vector<std::string>& class_names,
    double opacity) {
  namespace fs = std::filesystem;
  fs::create_directories(out_dir);
  std::vector<SegmentedFile> written;
  for (const auto& path : images) {
    const auto image = data::read_image(path);
    const auto result = segment(model, image);
    const std::string stem =
        (fs::path(out_dir) / fs::path(path).stem()).string();
    SegmentedFile file{path, stem + "_mask.png", stem + "_overlay.png"};
    data::write_label_png(result.classes, file.mask, palette);
    data::write_image(
        with_legend(
            overlay(image, result.classes, palette, opacity),
            result.classes,
            palette,
            class_names),
        file.overlay);
    written.push_back(file);
  }
  return written;
}

} // namespace infer
} // namespace fcnlab
