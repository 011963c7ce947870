#include "voc_fixtures.h"

#include <fcnlab/data/label_io.h>

#include <ATen/ATen.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>

namespace fcnlab {
namespace testing {

WrittenSample write_sample(
    const std::string& images_dir,
    const std::string& labels_dir,
    const std::string& name,
    int height,
    int width,
    int label_class,
    const std::string& image_format) {
  std::filesystem::create_directories(images_dir);
  std::filesystem::create_directories(labels_dir);
  cv::Mat image(height, width, CV_8UC3);
  cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(256));
  const cv::Rect object(width / 4, height / 4, width / 2, height / 2);
  cv::rectangle(image, object, cv::Scalar(20, 200, 90), cv::FILLED);
  const std::string image_path = images_dir + "/" + name + "." + image_format;
  cv::imwrite(image_path, image);
  const cv::Mat decoded = cv::imread(image_path, cv::IMREAD_COLOR);

  cv::Mat label = cv::Mat::zeros(height, width, CV_8U);
  cv::rectangle(label, object, cv::Scalar(label_class), cv::FILLED);
  cv::rectangle(label, object, cv::Scalar(255), /*thickness=*/1);
  auto label_tensor =
      at::from_blob(label.data, {height, width}, at::kByte).clone();
  data::write_label_png(label_tensor, labels_dir + "/" + name + ".png");
  return {
      at::from_blob(decoded.data, {height, width, 3}, at::kByte).clone(),
      label_tensor};
}

} // namespace testing
} // namespace fcnlab
