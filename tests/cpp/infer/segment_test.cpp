#include <fcnlab/data/image_io.h>
#include <fcnlab/data/label_io.h>
#include <fcnlab/infer/segment.h>
#include <fcnlab/models/fcn_alexnet.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include <fstream>

namespace fcnlab {
namespace infer {
namespace {

using SegmentTest = testing::SeededTest;

models::FcnAlexNet scoring_model() {
  models::FcnAlexNet model(models::FcnAlexNetOptions(4));
  torch::NoGradGuard no_grad;
  model->score_fr->weight.normal_(0, 0.5);
  model->score_fr->bias.copy_(torch::tensor({0.0, 0.3, -0.2, 0.1}));
  return model;
}

TEST_F(SegmentTest, ClassesAndProbabilitiesAtNativeSize) {
  auto model = scoring_model();
  model->train();
  const auto image = torch::randint(0, 256, {45, 61, 3}, torch::kByte);
  const auto result = segment(model, image);
  EXPECT_TRUE(model->is_training()); // mode restored
  EXPECT_EQ(result.classes.sizes(), torch::IntArrayRef({45, 61}));
  EXPECT_EQ(result.probabilities.sizes(), torch::IntArrayRef({4, 45, 61}));
  EXPECT_TRUE(torch::allclose(
      result.probabilities.sum(0), torch::ones({45, 61}), 1e-5, 1e-5));
  EXPECT_TRUE(torch::equal(
      result.classes.to(torch::kLong), result.probabilities.argmax(0)));
}

TEST_F(SegmentTest, OverlayBlendsOnlyForegroundPixels) {
  const auto image = torch::randint(0, 256, {4, 5, 3}, torch::kByte);
  auto classes = torch::zeros({4, 5}, torch::kByte);
  classes[1][2] = 1;
  classes[3][4] = 15;
  const auto palette = data::voc_palette();
  const auto out = overlay(image, classes, palette, 0.25);
  const auto background = (classes == 0).unsqueeze(2).expand({4, 5, 3});
  EXPECT_TRUE(torch::equal(
      out.masked_select(background), image.masked_select(background)));
  // Class 1 is RGB (128,0,0): BGR (0,0,128).
  for (int k = 0; k < 3; ++k) {
    const double color = k == 2 ? 128 : 0;
    // Rounded to a whole value (halves may go either way).
    EXPECT_NEAR(
        out[1][2][k].item<uint8_t>(),
        image[1][2][k].item<uint8_t>() * 0.75 + color * 0.25,
        0.5);
  }
}

TEST_F(SegmentTest, FilesUseThePaletteAndALegend) {
  auto model = scoring_model();
  cv::Mat picture(30, 40, CV_8UC3);
  cv::randu(picture, cv::Scalar::all(0), cv::Scalar::all(256));
  cv::imwrite(path("photo.png"), picture);
  const auto files = segment_files(
      model,
      {path("photo.png")},
      path("out"),
      data::voc_palette(),
      {"bg", "one", "two", "three"},
      0.5);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].mask, path("out/photo_mask.png"));

  const auto expected =
      segment(model, data::read_image(path("photo.png"))).classes;
  EXPECT_TRUE(torch::equal(data::read_label(files[0].mask), expected));
  // An independent decoder sees the palette colors of those classes.
  const cv::Mat colors = cv::imread(files[0].mask, cv::IMREAD_COLOR);
  const auto palette = data::voc_palette();
  const auto c = expected[7][9].item<uint8_t>();
  const auto pixel = colors.at<cv::Vec3b>(7, 9);
  EXPECT_EQ(data::Rgb({pixel[2], pixel[1], pixel[0]}), palette[c]);

  const cv::Mat overlaid = cv::imread(files[0].overlay, cv::IMREAD_COLOR);
  EXPECT_EQ(overlaid.cols, 40 + 170); // the legend strip
  EXPECT_GE(overlaid.rows, 30);
}

TEST_F(SegmentTest, UnreadableImageIsNamed) {
  auto model = scoring_model();
  std::ofstream(path("bad.jpg")) << "nope";
  EXPECT_NE(
      testing::error_message_of([&] {
        segment_files(
            model, {path("bad.jpg")}, path("out"), data::voc_palette(), {});
      }).find("image " + path("bad.jpg") + " is not a readable image"),
      std::string::npos);
}

} // namespace
} // namespace infer
} // namespace fcnlab
