#include <fcnlab/data/label_io.h>
#include <fcnlab/data/prepare_voc.h>
#include <fcnlab/data/synthetic.h>
#include <fcnlab/util/atomic_file.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <archive.h>
#include <archive_entry.h>
#include <torch/torch.h>

#include <fstream>
#include <map>

namespace fcnlab {
namespace data {
namespace {

namespace fs = std::filesystem;

using PrepareVocTest = testing::SeededTest;

// Reads every entry of a tar with libarchive directly.
std::map<std::string, std::string> tar_entries(const std::string& path) {
  std::map<std::string, std::string> entries;
  archive* reader = archive_read_new();
  archive_read_support_format_all(reader);
  EXPECT_EQ(
      archive_read_open_filename(reader, path.c_str(), 1 << 16), ARCHIVE_OK);
  archive_entry* entry;
  while (archive_read_next_header(reader, &entry) == ARCHIVE_OK) {
    std::string bytes(static_cast<size_t>(archive_entry_size(entry)), '\0');
    archive_read_data(reader, bytes.data(), bytes.size());
    entries[archive_entry_pathname(entry)] = bytes;
  }
  archive_read_free(reader);
  return entries;
}

void write_tar(
    const std::string& path,
    const std::map<std::string, std::string>& entries) {
  archive* writer = archive_write_new();
  archive_write_set_format_pax_restricted(writer);
  archive_write_open_filename(writer, path.c_str());
  for (const auto& [name, bytes] : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, name.c_str());
    archive_entry_set_size(entry, static_cast<la_int64_t>(bytes.size()));
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_write_header(writer, entry);
    archive_write_data(writer, bytes.data(), bytes.size());
    archive_entry_free(entry);
  }
  archive_write_close(writer);
  archive_write_free(writer);
}

const SynthVocOptions kSmall = SynthVocOptions().images(8).max_side(64).seed(3);

TEST_F(PrepareVocTest, SyntheticArchiveHasTheVocLayout) {
  write_synthetic_voc(path("voc.tar"), kSmall);
  const auto entries = tar_entries(path("voc.tar"));
  const std::string root = "VOCdevkit/VOC2012/";
  ASSERT_TRUE(entries.count(root + "ImageSets/Segmentation/train.txt"));
  ASSERT_TRUE(entries.count(root + "ImageSets/Segmentation/val.txt"));
  EXPECT_EQ(
      entries.at(root + "ImageSets/Segmentation/val.txt"),
      "synth_000007\nsynth_000008\n");
  int jpegs = 0, pngs = 0;
  for (const auto& [name, bytes] : entries) {
    jpegs += name.rfind(root + "JPEGImages/", 0) == 0;
    pngs += name.rfind(root + "SegmentationClass/", 0) == 0;
  }
  EXPECT_EQ(pngs, 8);
  EXPECT_EQ(jpegs, 8 + 3); // plus images outside the segmentation lists

  // Labels are paletted with objects and 255 borders around them.
  const auto label = decode_label(
      entries.at(root + "SegmentationClass/synth_000001.png"), "label");
  EXPECT_TRUE((label == 255).any().item<bool>());
  EXPECT_TRUE(((label > 0) & (label < 21)).any().item<bool>());
  EXPECT_TRUE((label == 0).any().item<bool>());
  EXPECT_FALSE(((label > 20) & (label < 255)).any().item<bool>());
}

TEST_F(PrepareVocTest, SyntheticArchiveIsDeterministicPerSeed) {
  write_synthetic_voc(path("a.tar"), kSmall);
  write_synthetic_voc(path("b.tar"), kSmall);
  write_synthetic_voc(path("c.tar"), SynthVocOptions(kSmall).seed(4));
  EXPECT_EQ(tar_entries(path("a.tar")), tar_entries(path("b.tar")));
  EXPECT_NE(tar_entries(path("a.tar")), tar_entries(path("c.tar")));
}

TEST_F(PrepareVocTest, WritesTheListedSplits) {
  write_synthetic_voc(path("voc.tar"), kSmall);
  size_t last_done = 0, last_total = 0;
  const auto report =
      prepare_voc(path("voc.tar"), path("out"), [&](size_t d, size_t t) {
        last_done = d;
        last_total = t;
      });
  EXPECT_EQ(report.train, 6u);
  EXPECT_EQ(report.val, 2u);
  EXPECT_EQ(last_done, 16u);
  EXPECT_EQ(last_total, 16u);
  const auto entries = tar_entries(path("voc.tar"));
  EXPECT_EQ(
      util::read_file(path("out/val/labels/synth_000008.png"), "t"),
      entries.at("VOCdevkit/VOC2012/SegmentationClass/synth_000008.png"));
  EXPECT_TRUE(fs::exists(path("out/train/images/synth_000001.jpg")));
  EXPECT_FALSE(fs::exists(path("out/train/images/other_000001.jpg")));
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(path("out"))) {
    files += entry.is_regular_file();
  }
  EXPECT_EQ(files, 16);
}

TEST_F(PrepareVocTest, AListedIdWithoutFilesKeepsTheOldOutput) {
  write_synthetic_voc(path("voc.tar"), kSmall);
  auto entries = tar_entries(path("voc.tar"));
  entries.erase("VOCdevkit/VOC2012/JPEGImages/synth_000003.jpg");
  write_tar(path("broken.tar"), entries);
  fs::create_directories(path("out"));
  std::ofstream(path("out/previous")) << "keep me";

  EXPECT_NE(
      testing::error_message_of(
          [&] { prepare_voc(path("broken.tar"), path("out")); })
          .find(
              "archive " + path("broken.tar") +
              ": train.txt lists synth_000003 but the archive has no "
              "VOC2012/JPEGImages/synth_000003.jpg"),
      std::string::npos);
  EXPECT_TRUE(fs::exists(path("out/previous")));
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(
        entry.path().filename().string().find(".partial"), std::string::npos);
  }
}

TEST_F(PrepareVocTest, RefusesUnsafeEntries) {
  write_tar(path("evil.tar"), {{"../escape.txt", "x"}});
  EXPECT_NE(
      testing::error_message_of([&] {
        prepare_voc(path("evil.tar"), path("out"));
      }).find("refusing entry '../escape.txt'"),
      std::string::npos);
  write_tar(path("abs.tar"), {{"/etc/passwd", "x"}});
  EXPECT_NE(
      testing::error_message_of([&] {
        prepare_voc(path("abs.tar"), path("out"));
      }).find("refusing entry '/etc/passwd'"),
      std::string::npos);
}

TEST_F(PrepareVocTest, MissingListsAndBadArchives) {
  write_tar(path("empty.tar"), {{"readme.txt", "hello"}});
  EXPECT_NE(
      testing::error_message_of([&] {
        prepare_voc(path("empty.tar"), path("out"));
      }).find("has no VOC2012/ImageSets/Segmentation/train.txt"),
      std::string::npos);
  std::ofstream(path("junk.tar")) << std::string(3000, 'x');
  EXPECT_NE(
      testing::error_message_of([&] {
        prepare_voc(path("junk.tar"), path("out"));
      }).find("archive " + path("junk.tar")),
      std::string::npos);
}

} // namespace
} // namespace data
} // namespace fcnlab
