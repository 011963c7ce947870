#include <fcnlab/data/palette.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <fstream>

namespace fcnlab {
namespace data {
namespace {

using PaletteTest = testing::SeededTest;

TEST_F(PaletteTest, VocEntriesFromTheDesign) {
  const Palette palette = voc_palette();
  EXPECT_EQ(palette[0], (Rgb{0, 0, 0}));
  EXPECT_EQ(palette[1], (Rgb{128, 0, 0}));
  EXPECT_EQ(palette[2], (Rgb{0, 128, 0}));
  EXPECT_EQ(palette[15], (Rgb{192, 128, 128})); // person
  EXPECT_EQ(palette[20], (Rgb{0, 64, 128}));
  EXPECT_EQ(palette[255], (Rgb{224, 224, 192}));
}

TEST_F(PaletteTest, ClassNamesStopAtTheFirstBlankLine) {
  std::ofstream(path("classes.txt"))
      << "background\r\naeroplane\nbicycle\n\nThis file lists the classes.\n";
  EXPECT_EQ(
      read_class_names(path("classes.txt")),
      (std::vector<std::string>{"background", "aeroplane", "bicycle"}));
  EXPECT_EQ(voc_class_names().size(), 21u);
  EXPECT_EQ(voc_class_names()[20], "tvmonitor");
}

TEST_F(PaletteTest, ClassNamesRoundTrip) {
  write_class_names({"a", "b"}, path("names.txt"));
  EXPECT_EQ(
      read_class_names(path("names.txt")),
      (std::vector<std::string>{"a", "b"}));
  std::ofstream(path("blank.txt")) << "\nname\n";
  EXPECT_NE(
      testing::error_message_of([&] {
        read_class_names(path("blank.txt"));
      }).find("names no class on its first line"),
      std::string::npos);
}

TEST_F(PaletteTest, ColormapFile) {
  std::ofstream(path("colors.txt")) << "# classes\n0 0 0\n255 10 3\n\n1 2 3\n";
  EXPECT_EQ(
      read_colormap(path("colors.txt")),
      (std::vector<Rgb>{{0, 0, 0}, {255, 10, 3}, {1, 2, 3}}));
  std::ofstream(path("bad.txt")) << "0 0 0\n1 2\n";
  EXPECT_NE(
      testing::error_message_of([&] {
        read_colormap(path("bad.txt"));
      }).find("colormap: " + path("bad.txt") + " line 2 is '1 2'"),
      std::string::npos);
  std::ofstream(path("range.txt")) << "0 0 256\n";
  EXPECT_NE(
      testing::error_message_of([&] {
        read_colormap(path("range.txt"));
      }).find("expected three values 0..255"),
      std::string::npos);
}

} // namespace
} // namespace data
} // namespace fcnlab
