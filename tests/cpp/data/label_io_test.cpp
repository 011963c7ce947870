#include <fcnlab/data/image_io.h>
#include <fcnlab/data/label_io.h>
#include <fcnlab/util/atomic_file.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include <fstream>

namespace fcnlab {
namespace data {
namespace {

using LabelIoTest = testing::SeededTest;

torch::Tensor random_label(int64_t height, int64_t width) {
  auto label = torch::randint(0, 21, {height, width}, torch::kByte);
  label.slice(0, 0, 2).fill_(255);
  return label;
}

TEST_F(LabelIoTest, PalettedRoundTripKeepsIndices) {
  const auto label = random_label(37, 53);
  write_label_png(label, path("label.png"));
  EXPECT_TRUE(torch::equal(read_label(path("label.png")), label));
}

TEST_F(LabelIoTest, IndicesAreReadEvenWhenColorsRepeat) {
  // Every index drawn in black: going through RGB would lose the classes.
  Palette black;
  black.fill(Rgb{0, 0, 0});
  const auto label = random_label(10, 12);
  write_label_png(label, path("black.png"), black);
  EXPECT_TRUE(torch::equal(read_label(path("black.png")), label));
}

TEST_F(LabelIoTest, AnIndependentDecoderSeesThePaletteColors) {
  const auto label = random_label(9, 7);
  write_label_png(label, path("label.png"));
  const cv::Mat bgr = cv::imread(path("label.png"), cv::IMREAD_COLOR);
  ASSERT_FALSE(bgr.empty());
  const Palette palette = voc_palette();
  for (int y = 0; y < 9; ++y) {
    for (int x = 0; x < 7; ++x) {
      const Rgb expected = palette[label[y][x].item<uint8_t>()];
      const auto pixel = bgr.at<cv::Vec3b>(y, x);
      ASSERT_EQ(Rgb({pixel[2], pixel[1], pixel[0]}), expected) << y << "," << x;
    }
  }
}

TEST_F(LabelIoTest, GrayscaleLabelsGiveTheirValues) {
  const auto label = random_label(11, 13);
  cv::Mat gray(11, 13, CV_8U, label.data_ptr<uint8_t>());
  cv::imwrite(path("gray.png"), gray);
  EXPECT_TRUE(torch::equal(read_label(path("gray.png")), label));
}

TEST_F(LabelIoTest, RgbLabelsNeedAColormap) {
  cv::Mat rgb(4, 5, CV_8UC3, cv::Scalar(0, 0, 128)); // BGR of (128,0,0)
  rgb.at<cv::Vec3b>(1, 2) = cv::Vec3b(0, 128, 0);    // (0,128,0)
  cv::imwrite(path("rgb.png"), rgb);
  EXPECT_NE(
      testing::error_message_of([&] { read_label(path("rgb.png")); })
          .find(
              "label " + path("rgb.png") +
              " has 3 channels; labels must be "
              "single-channel"),
      std::string::npos);

  const std::vector<Rgb> colormap = {{0, 0, 0}, {128, 0, 0}, {0, 128, 0}};
  const auto label = read_label(path("rgb.png"), &colormap);
  EXPECT_EQ(label[0][0].item<uint8_t>(), 1);
  EXPECT_EQ(label[1][2].item<uint8_t>(), 2);
  EXPECT_EQ(label.sum().item<int64_t>(), 19 * 1 + 2);

  rgb.at<cv::Vec3b>(3, 4) = cv::Vec3b(1, 2, 3);
  cv::imwrite(path("unknown.png"), rgb);
  EXPECT_NE(
      testing::error_message_of([&] {
        read_label(path("unknown.png"), &colormap);
      }).find("pixel (x=4, y=3) has color (3,2,1) which is not in the colormap"),
      std::string::npos);
}

TEST_F(LabelIoTest, TruncatedPngIsNamed) {
  write_label_png(random_label(64, 64), path("label.png"));
  const auto bytes = util::read_file(path("label.png"), "test");
  std::ofstream(path("cut.png"), std::ios::binary)
      << bytes.substr(0, bytes.size() / 2);
  EXPECT_NE(
      testing::error_message_of([&] {
        read_label(path("cut.png"));
      }).find("label " + path("cut.png") + " is not a readable PNG"),
      std::string::npos);
}

TEST_F(LabelIoTest, ColorizeUsesThePalette) {
  const auto label = torch::tensor({0, 1, 15, 255}, torch::kByte).view({2, 2});
  const auto rgb = colorize(label, voc_palette());
  EXPECT_TRUE(torch::equal(
      rgb,
      torch::tensor(
          {0, 0, 0, 128, 0, 0, 192, 128, 128, 224, 224, 192}, torch::kByte)
          .view({2, 2, 3})));
}

TEST_F(LabelIoTest, ImagesDecodeToBgrWithChannelConversion) {
  cv::Mat bgr(6, 8, CV_8UC3);
  cv::randu(bgr, cv::Scalar::all(0), cv::Scalar::all(256));
  cv::imwrite(path("color.png"), bgr);
  const auto image = read_image(path("color.png"));
  EXPECT_TRUE(
      torch::equal(image, torch::from_blob(bgr.data, {6, 8, 3}, torch::kByte)));
  const auto input = to_network_input(image);
  EXPECT_EQ(input.sizes(), torch::IntArrayRef({3, 6, 8}));
  EXPECT_EQ(input[0][1][2].item<float>(), bgr.at<cv::Vec3b>(1, 2)[0]);

  cv::Mat gray(5, 4, CV_8U, cv::Scalar(77));
  cv::imwrite(path("gray.png"), gray);
  const auto from_gray = read_image(path("gray.png"));
  EXPECT_EQ(from_gray.sizes(), torch::IntArrayRef({5, 4, 3}));
  EXPECT_EQ(from_gray.min().item<uint8_t>(), 77);
  EXPECT_EQ(from_gray.max().item<uint8_t>(), 77);

  cv::Mat rgba(3, 3, CV_8UC4, cv::Scalar(10, 20, 30, 0));
  cv::imwrite(path("alpha.png"), rgba);
  EXPECT_TRUE(torch::equal(
      read_image(path("alpha.png"))[0][0],
      torch::tensor({10, 20, 30}, torch::kByte)));
  EXPECT_EQ(
      read_image(path("color.png"), ChannelConversion::kGray).sizes(),
      torch::IntArrayRef({6, 8, 1}));
}

TEST_F(LabelIoTest, CorruptAndTruncatedJpegsAreNamed) {
  cv::Mat bgr(64, 64, CV_8UC3);
  cv::randu(bgr, cv::Scalar::all(0), cv::Scalar::all(256));
  cv::imwrite(path("image.jpg"), bgr);
  const auto bytes = util::read_file(path("image.jpg"), "test");
  std::ofstream(path("cut.jpg"), std::ios::binary)
      << bytes.substr(0, bytes.size() - 100);
  EXPECT_NE(
      testing::error_message_of([&] {
        read_image(path("cut.jpg"));
      }).find("image " + path("cut.jpg") + " is a truncated JPEG"),
      std::string::npos);
  std::ofstream(path("junk.jpg"), std::ios::binary) << "not an image at all";
  EXPECT_NE(
      testing::error_message_of([&] {
        read_image(path("junk.jpg"));
      }).find("image " + path("junk.jpg") + " is not a readable image"),
      std::string::npos);
}

// Headers that claim a huge size (decompression bombs): refused from the
// header, before a decoder allocates the pixels.
std::string png_header(uint32_t width, uint32_t height) {
  std::string bytes("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  for (const uint32_t value : {width, height}) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      bytes.push_back(char((value >> shift) & 0xFF));
    }
  }
  bytes += std::string("\x08\x03\0\0\0\0\0\0\0", 9); // paletted, no CRC
  return bytes;
}

std::string jpeg_header(uint16_t width, uint16_t height) {
  // SOI, an APP0 segment to skip, then a baseline frame header (SOF0).
  std::string bytes("\xFF\xD8\xFF\xE0\x00\x04\x00\x00\xFF\xC0\x00\x11\x08", 13);
  for (const uint16_t value : {height, width}) {
    bytes.push_back(char(value >> 8));
    bytes.push_back(char(value & 0xFF));
  }
  bytes += std::string(12, '\x01');
  return bytes + "\xFF\xD9";
}

TEST_F(LabelIoTest, HugeHeadersAreRefusedBeforeDecoding) {
  const auto png = testing::error_message_of(
      [&] { decode_label(png_header(50000, 50000), "bomb.png"); });
  EXPECT_NE(
      png.find("label bomb.png is 50000x50000 pixels, more than the limit of "
               "100000000"),
      std::string::npos)
      << png;
  const auto jpeg = testing::error_message_of(
      [&] { decode_image(jpeg_header(60000, 40000), "bomb.jpg"); });
  EXPECT_NE(
      jpeg.find("image bomb.jpg is 60000x40000 pixels, more than the limit"),
      std::string::npos)
      << jpeg;
  const auto pnm = testing::error_message_of([&] {
    decode_image("P5\n# a comment\n30000 20000\n255\n", "bomb.pgm");
  });
  EXPECT_NE(pnm.find("image bomb.pgm is 30000x20000 pixels"), std::string::npos)
      << pnm;
  // A header within the limit goes on to the decoder, which finds no data.
  EXPECT_NE(
      testing::error_message_of([&] {
        decode_label(png_header(500, 375), "small.png");
      }).find("is not a readable PNG"),
      std::string::npos);
}

// OpenCV decodes many more formats, some with decoders that abort on damaged
// input (DICOM); only PNG, JPEG, BMP and PNM reach it.
TEST_F(LabelIoTest, OtherFormatsAreRefusedBySignature) {
  const std::string tiff("II*\0\x08\0\0\0", 8);
  EXPECT_NE(
      testing::error_message_of([&] { decode_image(tiff, "scan.tif"); })
          .find("image scan.tif is not a readable image: not a PNG, JPEG, BMP "
                "or PNM (PPM/PGM) file"),
      std::string::npos);
  std::string dicom(132, '\0');
  dicom.replace(128, 4, "DICM");
  EXPECT_NE(
      testing::error_message_of([&] { decode_label(dicom, "scan.dcm"); })
          .find("label scan.dcm is not a readable image: not a PNG"),
      std::string::npos);
  const auto gray = torch::randint(0, 256, {3, 4, 1}, torch::kByte);
  std::vector<uchar> pgm;
  cv::imencode(".pgm", cv::Mat(3, 4, CV_8UC1, gray.data_ptr()), pgm);
  EXPECT_TRUE(decode_image(std::string(pgm.begin(), pgm.end()), "a.pgm",
                           ChannelConversion::kNone)
                  .equal(gray));
}

TEST_F(LabelIoTest, PixelLimitIsConfigurable) {
  const int64_t default_limit = max_image_pixels();
  EXPECT_EQ(default_limit, 100000000);
  const auto image = torch::randint(0, 256, {10, 20, 3}, torch::kByte);
  const std::string png = encode_image(image, "png");
  const std::string jpg = encode_image(image, "jpg");
  const std::string label =
      encode_label_png(random_label(10, 20), voc_palette());
  set_max_image_pixels(200);
  EXPECT_TRUE(decode_image(png, "a.png").equal(image));
  EXPECT_EQ(decode_image(jpg, "a.jpg").sizes(), image.sizes());
  EXPECT_EQ(decode_label(label, "l.png").sizes(), (c10::IntArrayRef{10, 20}));
  set_max_image_pixels(199);
  EXPECT_NE(
      testing::error_message_of([&] {
        decode_image(png, "a.png");
      }).find("image a.png is 20x10 pixels, more than the limit of 199"),
      std::string::npos);
  EXPECT_NE(
      testing::error_message_of([&] {
        decode_image(jpg, "a.jpg");
      }).find("image a.jpg is 20x10 pixels"),
      std::string::npos);
  EXPECT_NE(
      testing::error_message_of([&] {
        decode_label(label, "l.png");
      }).find("label l.png is 20x10 pixels"),
      std::string::npos);
  set_max_image_pixels(default_limit);
  EXPECT_THROW(set_max_image_pixels(0), c10::ValueError);
}

} // namespace
} // namespace data
} // namespace fcnlab
