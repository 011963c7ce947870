#include <fcnlab/data/label_io.h>
#include <fcnlab/data/prepare_voc.h>
#include <fcnlab/data/sbd.h>
#include <fcnlab/data/synthetic.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <torch/torch.h>

#include <matio.h>

#include <filesystem>
#include <fstream>

namespace fcnlab {
namespace data {
namespace {

namespace fs = std::filesystem;
using SbdTest = testing::SeededTest;

// A MAT v5 file written with libmatio directly: `name` is a struct with one
// field `field` holding a 2 x 3 double matrix in MATLAB's column order.
void write_mat(
    const std::string& path,
    const char* name,
    const char* field,
    std::vector<double> column_major) {
  mat_t* mat = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  ASSERT_NE(mat, nullptr);
  size_t one[2] = {1, 1}, dims[2] = {2, 3};
  const char* fields[] = {field};
  matvar_t* gt = Mat_VarCreateStruct(name, 2, one, fields, 1);
  Mat_VarSetStructFieldByName(
      gt,
      field,
      0,
      Mat_VarCreate(
          nullptr,
          MAT_C_DOUBLE,
          MAT_T_DOUBLE,
          2,
          dims,
          column_major.data(),
          MAT_F_DONT_COPY_DATA));
  ASSERT_EQ(Mat_VarWrite(mat, gt, MAT_COMPRESSION_NONE), 0);
  Mat_VarFree(gt);
  Mat_Close(mat);
}

TEST_F(SbdTest, ReadsGTclsSegmentationInMatlabsColumnOrder) {
  // MATLAB's [0 2 4; 1 3 5] is stored 0 1 2 3 4 5.
  write_mat(path("a.mat"), "GTcls", "Segmentation", {0, 1, 2, 3, 4, 5});
  const auto label = read_sbd_label(path("a.mat"));
  EXPECT_TRUE(
      torch::equal(label, torch::tensor({{0, 2, 4}, {1, 3, 5}}, torch::kByte)));
}

TEST_F(SbdTest, WrittenLabelsReadBack) {
  const auto label = torch::randint(0, 21, {7, 11}, torch::kByte);
  write_sbd_label(path("b.mat"), label);
  EXPECT_TRUE(torch::equal(read_sbd_label(path("b.mat")), label));
}

TEST_F(SbdTest, DamagedOrForeignFilesAreNamedErrors) {
  std::ofstream(path("text.mat")) << "not a MAT file at all, just text";
  write_mat(path("other.mat"), "GTinst", "Segmentation", {0, 1, 2, 3, 4, 5});
  write_mat(path("field.mat"), "GTcls", "Boundaries", {0, 1, 2, 3, 4, 5});
  write_mat(path("values.mat"), "GTcls", "Segmentation", {0, 1, 2, 3, 300, 5});
  write_mat(
      path("fraction.mat"), "GTcls", "Segmentation", {0, 1.5, 2, 3, 4, 5});
  write_sbd_label(path("good.mat"), torch::zeros({4, 4}, torch::kByte));
  std::ifstream in(path("good.mat"), std::ios::binary);
  const std::string bytes(std::istreambuf_iterator<char>(in), {});
  std::ofstream(path("cut.mat"), std::ios::binary)
      << bytes.substr(0, bytes.size() - 20);
  for (const auto& [file, expected] :
       std::vector<std::pair<std::string, std::string>>{
           {"missing.mat", "cannot open"},
           {"text.mat", "is not a readable MAT file"},
           {"other.mat", "has no variable GTcls"},
           {"field.mat", "GTcls has no field Segmentation"},
           {"values.mat", "holds 300, not a class index"},
           {"fraction.mat", "holds 1.5, not a class index"},
           {"cut.mat", "cut.mat"}}) {
    const auto message =
        testing::error_message_of([&] { read_sbd_label(path(file)); });
    EXPECT_NE(message.find(expected), std::string::npos)
        << file << ": " << message;
    EXPECT_NE(message.find(file), std::string::npos) << message;
  }
}

TEST_F(SbdTest, PrepareSbdMatchesTheSameImagesPreparedFromVoc) {
  const auto options = SynthVocOptions().images(8).max_side(64).seed(3);
  write_synthetic_sbd(path("benchmark.tar"), options);
  write_synthetic_voc(path("voc.tar"), options);
  const auto report = prepare_sbd(path("benchmark.tar"), path("sbd"));
  EXPECT_EQ(report.train, 6u);
  EXPECT_EQ(report.val, 2u);
  prepare_voc(path("voc.tar"), path("voc"));
  size_t compared = 0;
  for (const char* split : {"train", "val"}) {
    for (const auto& entry :
         fs::directory_iterator(path("voc/") + split + "/labels")) {
      const auto name = entry.path().filename().string();
      const auto voc = read_label(entry.path().string());
      const auto sbd = read_label(path("sbd/") + split + "/labels/" + name);
      // SBD has no 255 outlines; elsewhere the classes agree.
      EXPECT_EQ((sbd == 255).sum().item<int64_t>(), 0);
      const auto kept = voc != 255;
      EXPECT_TRUE(
          torch::equal(sbd.masked_select(kept), voc.masked_select(kept)))
          << name;
      EXPECT_TRUE(fs::exists(
          path("sbd/") + split + "/images/" + entry.path().stem().string() +
          ".jpg"));
      ++compared;
    }
  }
  EXPECT_EQ(compared, 8u);
}

TEST_F(SbdTest, FcnSplitValidatesOnVocIdsAndTrainsOnSbdTrain) {
  const auto options = SynthVocOptions().images(8).max_side(48).seed(4);
  write_synthetic_sbd(path("benchmark.tar"), options);
  write_synthetic_voc(path("voc.tar"), options);
  // Two VOC ids, one of them also in SBD's train list (FCN drops it there).
  std::ofstream(path("seg11valid.txt")) << "synth_000001\nsynth_000008\n";
  const auto report = prepare_sbd(
      path("benchmark.tar"),
      path("out"),
      nullptr,
      path("seg11valid.txt"),
      path("voc.tar"));
  EXPECT_EQ(report.val, 2u);
  EXPECT_EQ(report.train, 5u); // SBD train (6) without synth_000001
  EXPECT_FALSE(fs::exists(path("out/train/labels/synth_000001.png")));
  const auto val = read_label(path("out/val/labels/synth_000001.png"));
  EXPECT_GT((val == 255).sum().item<int64_t>(), 0); // VOC's, with outlines
}

TEST_F(SbdTest, MissingFilesAndLists) {
  const auto missing = testing::error_message_of(
      [&] { prepare_sbd(path("voc.tar"), path("out")); });
  EXPECT_NE(missing.find("cannot"), std::string::npos) << missing;
  write_synthetic_voc(
      path("voc.tar"), SynthVocOptions().images(2).max_side(32));
  const auto not_sbd = testing::error_message_of(
      [&] { prepare_sbd(path("voc.tar"), path("out")); });
  EXPECT_NE(not_sbd.find("has no dataset/train.txt"), std::string::npos)
      << not_sbd;
  std::ofstream(path("ids.txt")) << "nowhere_1\n";
  write_synthetic_sbd(
      path("benchmark.tar"), SynthVocOptions().images(2).max_side(32));
  const auto absent = testing::error_message_of([&] {
    prepare_sbd(
        path("benchmark.tar"),
        path("out"),
        nullptr,
        path("ids.txt"),
        path("voc.tar"));
  });
  EXPECT_NE(absent.find("has no image of nowhere_1"), std::string::npos)
      << absent;
  EXPECT_FALSE(fs::exists(path("out")));
}

} // namespace
} // namespace data
} // namespace fcnlab
