#include <fcnlab/data/object_crops.h>

#include "tensor_dataset.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace fcnlab {
namespace {

using data::Crop;
using data::CropOptions;

// 20 x 30 background with class 3 in rows 4..7, columns 10..15 (24 pixels),
// two pixels of class 5, and a 255 outline that makes no crop.
torch::Tensor sample_labels() {
  auto labels = torch::zeros({20, 30}, torch::kLong);
  labels.slice(0, 4, 8).slice(1, 10, 16).fill_(3);
  labels[15][25] = 5;
  labels[15][26] = 5;
  labels.slice(0, 3, 4).slice(1, 10, 16).fill_(255);
  return labels;
}

bool same_box(const Crop& crop, int64_t t, int64_t l, int64_t b, int64_t r) {
  return crop.top == t && crop.left == l && crop.bottom == b && crop.right == r;
}

TEST(ObjectCropsTest, BoxesWidenedSquaredAndMirrored) {
  const auto crops =
      data::find_crops(sample_labels(), 7, CropOptions().min_pixels(4));
  // Class 3: box 4 x 6, longer side 6, + 2 * 0.15 * 6 -> a square of 7.8,
  // rounded to 8, around the box centre (6, 13): rows 6 - 3.9 = 2.1 -> 2,
  // columns 13 - 3.9 = 9.1 -> 9. Class 5 has 2 < 4 pixels. Background: the
  // 10 x 10 top-left window is all class 0, the first of the candidates.
  ASSERT_EQ(crops.size(), 4u);
  EXPECT_EQ(crops[0].label, 3);
  EXPECT_TRUE(same_box(crops[0], 2, 9, 10, 17));
  EXPECT_FALSE(crops[0].mirrored);
  EXPECT_TRUE(crops[1].mirrored);
  EXPECT_TRUE(same_box(crops[1], 2, 9, 10, 17));
  EXPECT_EQ(crops[2].label, 0);
  EXPECT_TRUE(same_box(crops[2], 0, 0, 10, 10));
  for (const auto& crop : crops) {
    EXPECT_EQ(crop.source, 7u);
  }
}

TEST(ObjectCropsTest, WindowsStayInsideTheImage) {
  auto labels = torch::zeros({10, 12}, torch::kLong);
  labels.slice(0, 0, 3).slice(1, 9, 12).fill_(2); // in the top-right corner
  const auto crops = data::find_crops(
      labels,
      0,
      CropOptions().min_pixels(1).mirror(false).background(false).context(0.5));
  ASSERT_EQ(crops.size(), 1u);
  // 3 + 2 * 0.5 * 3 = 6, centred on (1.5, 10.5), moved inside: rows 0..6,
  // columns 6..12.
  EXPECT_TRUE(same_box(crops[0], 0, 6, 6, 12));
}

TEST(ObjectCropsTest, NoBackgroundCropWhenObjectsFillTheImage) {
  const auto labels = torch::ones({8, 8}, torch::kLong);
  const auto crops =
      data::find_crops(labels, 0, CropOptions().mirror(false).min_pixels(1));
  ASSERT_EQ(crops.size(), 1u);
  EXPECT_EQ(crops[0].label, 1);
}

TEST(ObjectCropsTest, DatasetCutsTheBoxesPixels) {
  // Pixel values encode their coordinates, so a crop shows where it came
  // from. A side of 8 equals the box: bilinear resizing copies it.
  const auto image =
      torch::arange(3 * 20 * 30, torch::kFloat).view({3, 20, 30});
  auto dataset = std::make_shared<testing::TensorDataset>(
      std::vector<data::SegmentationExample>{{image, sample_labels()}});
  data::ObjectCrops crops(
      dataset, CropOptions().side(8).min_pixels(4).background(false));
  ASSERT_EQ(crops.size().value(), 2u);
  const auto plain = crops.get(0);
  EXPECT_TRUE(torch::equal(
      plain.data, image.slice(1, 2, 10).slice(2, 9, 17).contiguous()));
  EXPECT_TRUE(torch::equal(plain.target, torch::full({1, 1}, 3, torch::kLong)));
  EXPECT_TRUE(torch::equal(crops.get(1).data, plain.data.flip({2})));
  EXPECT_EQ(crops.name(1), "sample0:3:mirrored");
  EXPECT_EQ(crops.get(0).data.sizes(), (std::vector<int64_t>{3, 8, 8}));
}

TEST(ObjectCropsTest, ResizesToTheSide) {
  const auto image = torch::rand({3, 20, 30}) * 255;
  auto dataset = std::make_shared<testing::TensorDataset>(
      std::vector<data::SegmentationExample>{{image, sample_labels()}});
  data::ObjectCrops crops(dataset);
  for (size_t i = 0; i < crops.size().value(); ++i) {
    EXPECT_EQ(crops.get(i).data.sizes(), (std::vector<int64_t>{3, 227, 227}));
  }
}

TEST(ObjectCropsTest, ADatasetWithoutCropsIsNamed) {
  auto dataset = std::make_shared<testing::TensorDataset>(
      std::vector<data::SegmentationExample>{
          {torch::zeros({3, 4, 4}), torch::full({4, 4}, 255, torch::kLong)}});
  try {
    data::ObjectCrops crops(dataset);
    FAIL() << "no crops accepted";
  } catch (const c10::Error& error) {
    EXPECT_NE(std::string(error.what()).find("sample0"), std::string::npos)
        << error.what();
  }
}

} // namespace
} // namespace fcnlab
