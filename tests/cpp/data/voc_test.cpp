#include <fcnlab/data/dataset_dir.h>
#include <fcnlab/data/label_io.h>
#include <fcnlab/data/voc.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"
#include "voc_fixtures.h"

#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include <fstream>

namespace fcnlab {
namespace data {
namespace {

using VocTest = testing::SeededTest;

TEST_F(VocTest, DeliversBgrImagesAndLabelIndicesAtNativeSize) {
  const auto a =
      testing::write_sample(path("img"), path("lbl"), "a", 30, 40, 7, "jpg");
  const auto b =
      testing::write_sample(path("img"), path("lbl"), "b", 25, 20, 15, "png");
  VOCSegmentation dataset(path("img"), path("lbl"));
  ASSERT_EQ(dataset.size().value(), 2u);
  EXPECT_EQ(dataset.name(0), "a");

  const auto first = dataset.get(0);
  EXPECT_EQ(first.data.sizes(), torch::IntArrayRef({3, 30, 40}));
  EXPECT_EQ(first.data.scalar_type(), torch::kFloat);
  EXPECT_TRUE(
      torch::equal(first.data, a.image.permute({2, 0, 1}).to(torch::kFloat)));
  EXPECT_EQ(first.target.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(first.target, a.label.to(torch::kLong)));

  const auto second = dataset.get(1);
  EXPECT_TRUE(torch::equal(second.target, b.label.to(torch::kLong)));
  EXPECT_EQ(second.target.max().item<int64_t>(), 255);
}

TEST_F(VocTest, PreparedSplitLayout) {
  testing::write_sample(
      path("voc/train/images"), path("voc/train/labels"), "x", 8, 8, 1);
  auto dataset = VOCSegmentation::prepared(path("voc"), "train");
  EXPECT_EQ(dataset->size().value(), 1u);
}

TEST_F(VocTest, ColorLabelsThroughAColormap) {
  testing::write_sample(path("img"), path("lbl"), "a", 10, 12, 3);
  // Replace the label by its RGB rendering.
  const auto indices = read_label(path("lbl/a.png"));
  const auto rgb = colorize(indices, voc_palette()).flip({2}).contiguous();
  cv::imwrite(
      path("lbl/a.png"), cv::Mat(10, 12, CV_8UC3, rgb.data_ptr<uint8_t>()));
  const Palette palette = voc_palette();
  const std::vector<Rgb> colormap(palette.begin(), palette.end());

  VOCSegmentation without(path("img"), path("lbl"));
  EXPECT_NE(
      testing::error_message_of([&] { without.get(0); }).find("has 3 channels"),
      std::string::npos);
  VOCSegmentation with(
      path("img"), path("lbl"), VocOptions().colormap(colormap));
  EXPECT_TRUE(torch::equal(with.get(0).target, indices.to(torch::kLong)));
}

TEST_F(VocTest, SizeMismatchAndClassRangeAreNamed) {
  testing::write_sample(path("img"), path("lbl"), "a", 20, 30, 3);
  testing::write_sample(path("other_img"), path("other_lbl"), "a", 20, 31, 3);
  std::filesystem::copy_file(
      path("other_lbl/a.png"),
      path("lbl/a.png"),
      std::filesystem::copy_options::overwrite_existing);
  VOCSegmentation mismatched(path("img"), path("lbl"));
  EXPECT_NE(
      testing::error_message_of([&] { mismatched.get(0); })
          .find(
              "label " + path("lbl/a.png") +
              " is 31x20 but its image is 30x20"),
      std::string::npos);

  testing::write_sample(path("img2"), path("lbl2"), "b", 20, 30, 23);
  VOCSegmentation out_of_range(path("img2"), path("lbl2"));
  EXPECT_NE(
      testing::error_message_of([&] {
        out_of_range.get(0);
      }).find("has class 23 at (x=8, y=6); the dataset has 21 classes"),
      std::string::npos);
  VOCSegmentation wider(
      path("img2"), path("lbl2"), VocOptions().num_classes(24));
  EXPECT_EQ(wider.get(0).target.max().item<int64_t>(), 255);
}

TEST_F(VocTest, FolderProblems) {
  std::filesystem::create_directories(path("empty_img"));
  std::filesystem::create_directories(path("empty_lbl"));
  EXPECT_NE(
      testing::error_message_of([&] {
        VOCSegmentation(path("empty_img"), path("empty_lbl"));
      }).find("image folder " + path("empty_img") + " holds no images"),
      std::string::npos);
  EXPECT_NE(
      testing::error_message_of([&] {
        VOCSegmentation(path("nowhere"), path("lbl"));
      }).find("image folder " + path("nowhere") + " does not exist"),
      std::string::npos);

  testing::write_sample(path("img"), path("lbl"), "a", 8, 8, 1);
  testing::write_sample(path("img"), path("lbl"), "b", 8, 8, 1);
  std::filesystem::remove(path("lbl/b.png"));
  EXPECT_NE(
      testing::error_message_of([&] {
        VOCSegmentation(path("img"), path("lbl"));
      }).find("has 2 images but label folder " + path("lbl") + " has 1 labels"),
      std::string::npos);
  std::filesystem::copy_file(path("lbl/a.png"), path("lbl/c.png"));
  EXPECT_NE(
      testing::error_message_of([&] {
        VOCSegmentation(path("img"), path("lbl"));
      }).find("image " + path("img/b.png") + " has no label named b.*"),
      std::string::npos);
}

TEST_F(VocTest, WorksWithLibTorchDataLoader) {
  for (int i = 0; i < 3; ++i) {
    testing::write_sample(
        path("img"), path("lbl"), "s" + std::to_string(i), 16, 16, i + 1);
  }
  auto dataset =
      VOCSegmentation(path("img"), path("lbl"))
          .map(torch::data::transforms::Stack<SegmentationExample>());
  auto loader = torch::data::make_data_loader(
      std::move(dataset), torch::data::DataLoaderOptions().batch_size(3));
  int batches = 0;
  for (auto& batch : *loader) {
    EXPECT_EQ(batch.data.sizes(), torch::IntArrayRef({3, 3, 16, 16}));
    EXPECT_EQ(batch.target.sizes(), torch::IntArrayRef({3, 16, 16}));
    ++batches;
  }
  EXPECT_EQ(batches, 1);
}

TEST_F(VocTest, DatasetFromSeparateFolders) {
  const auto train =
      testing::write_sample(path("ti"), path("tl"), "t", 12, 10, 2);
  testing::write_sample(path("vi"), path("vl"), "v", 9, 11, 1);
  std::ofstream(path("classes.txt")) << "sky\nsea\nboat\n";

  DatasetFolders folders;
  folders.train_images = path("ti");
  folders.train_labels = path("tl");
  folders.classes = path("classes.txt");
  auto data = open_dataset_folders(folders);
  EXPECT_EQ(data.class_names, (std::vector<std::string>{"sky", "sea", "boat"}));
  EXPECT_EQ(data.val, nullptr);
  ASSERT_EQ(data.train->size().value(), 1u);
  EXPECT_TRUE(
      torch::equal(data.train->get(0).target, train.label.to(torch::kLong)));

  folders.val_images = path("vi");
  folders.val_labels = path("vl");
  folders.classes.clear();
  data = open_dataset_folders(folders);
  EXPECT_EQ(data.class_names, voc_class_names());
  ASSERT_NE(data.val, nullptr);
  EXPECT_EQ(data.val->name(0), "v");

  folders.val_labels.clear();
  const auto error =
      testing::error_message_of([&] { open_dataset_folders(folders); });
  EXPECT_NE(
      error.find(
          "the validation split needs both an image folder and a "
          "label folder, got images " +
          path("vi")),
      std::string::npos)
      << error;
}

} // namespace
} // namespace data
} // namespace fcnlab
