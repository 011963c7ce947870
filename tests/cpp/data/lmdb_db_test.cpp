#include <fcnlab/data/explore.h>
#include <fcnlab/data/lmdb_db.h>
#include <fcnlab/data/palette.h>

#include "caffe.pb.h"
#include "caffe_fixtures.h"
#include "seeded_test.h"
#include "voc_fixtures.h"

#include <lmdb.h>
#include <torch/torch.h>

#include <fstream>

namespace fcnlab {
namespace data {
namespace {

namespace fs = std::filesystem;

class LmdbDbTest : public testing::SeededTest {
 protected:
  // create_db's options for the samples in img/ and lbl/, written to db/.
  CreateDbOptions db_options() {
    CreateDbOptions options;
    options.train_images = path("img");
    options.train_labels = path("lbl");
    options.out_dir = path("db");
    return options;
  }
};

// Reads all key/value pairs of an LMDB directly with liblmdb.
std::vector<std::pair<std::string, std::string>> read_lmdb(
    const std::string& dir) {
  MDB_env* env;
  mdb_env_create(&env);
  EXPECT_EQ(mdb_env_open(env, dir.c_str(), MDB_RDONLY, 0664), 0);
  MDB_txn* txn;
  mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
  MDB_dbi dbi;
  mdb_dbi_open(txn, nullptr, 0, &dbi);
  MDB_cursor* cursor;
  mdb_cursor_open(txn, dbi, &cursor);
  MDB_val key, value;
  std::vector<std::pair<std::string, std::string>> entries;
  while (mdb_cursor_get(cursor, &key, &value, MDB_NEXT) == 0) {
    entries.emplace_back(
        std::string(static_cast<char*>(key.mv_data), key.mv_size),
        std::string(static_cast<char*>(value.mv_data), value.mv_size));
  }
  mdb_cursor_close(cursor);
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return entries;
}

// Writes an LMDB as DIGITS does, with raw CHW BGR datums.
void write_digits_lmdb(
    const std::string& dir,
    const std::vector<torch::Tensor>& chw) {
  fs::create_directories(dir);
  MDB_env* env;
  mdb_env_create(&env);
  mdb_env_set_mapsize(env, 1 << 26);
  ASSERT_EQ(mdb_env_open(env, dir.c_str(), 0, 0664), 0);
  MDB_txn* txn;
  mdb_txn_begin(env, nullptr, 0, &txn);
  MDB_dbi dbi;
  mdb_dbi_open(txn, nullptr, 0, &dbi);
  for (size_t i = 0; i < chw.size(); ++i) {
    ::caffe::Datum datum;
    datum.set_channels(int(chw[i].size(0)));
    datum.set_height(int(chw[i].size(1)));
    datum.set_width(int(chw[i].size(2)));
    const auto bytes = chw[i].contiguous();
    datum.set_data(bytes.data_ptr<uint8_t>(), bytes.numel());
    std::string value = datum.SerializeAsString();
    char key[16];
    std::snprintf(key, sizeof(key), "%09zu", i);
    MDB_val k{9, key}, v{value.size(), value.data()};
    mdb_put(txn, dbi, &k, &v, 0);
  }
  mdb_txn_commit(txn);
  mdb_env_close(env);
}

std::vector<testing::WrittenSample> write_tree(
    const std::string& images,
    const std::string& labels,
    int count,
    int height = 24,
    int width = 32) {
  std::vector<testing::WrittenSample> samples;
  for (int i = 0; i < count; ++i) {
    samples.push_back(testing::write_sample(
        images,
        labels,
        "s" + std::to_string(i),
        height + i,
        width,
        1 + i % 20));
  }
  return samples;
}

TEST_F(LmdbDbTest, DigitsLayoutKeysAndDatums) {
  const auto samples = write_tree(path("img"), path("lbl"), 3);
  auto options = db_options();
  options.val_images = path("img");
  options.val_labels = path("lbl");
  const auto report = create_db(options);
  EXPECT_EQ(report.train, 3u);
  EXPECT_EQ(report.val, 3u);
  for (const char* file :
       {"train_db/features/data.mdb",
        "train_db/labels/data.mdb",
        "val_db/features/data.mdb",
        "val_db/labels/data.mdb",
        "classes.txt",
        "palette.txt"}) {
    EXPECT_TRUE(fs::exists(path("db/") + file)) << file;
  }
  const auto features = read_lmdb(path("db/train_db/features"));
  ASSERT_EQ(features.size(), 3u);
  EXPECT_EQ(features[0].first, "000000000");
  EXPECT_EQ(features[2].first, "000000002");
  ::caffe::Datum datum;
  ASSERT_TRUE(datum.ParseFromString(features[1].second));
  EXPECT_TRUE(datum.encoded());
  EXPECT_EQ(datum.channels(), 3);
  EXPECT_EQ(datum.height(), 25);
  EXPECT_EQ(datum.width(), 32);
  ::caffe::Datum label;
  ASSERT_TRUE(
      label.ParseFromString(read_lmdb(path("db/train_db/labels"))[1].second));
  EXPECT_EQ(label.channels(), 1);
  EXPECT_EQ(read_class_names(path("db/classes.txt")).size(), 21u);
}

TEST_F(LmdbDbTest, DatasetReturnsWhatTheFilesHold) {
  for (const auto& encoding : {Encoding::kPng, Encoding::kNone}) {
    const auto samples = write_tree(path("img"), path("lbl"), 3);
    auto options = db_options();
    options.feature_encoding = encoding;
    options.label_encoding = encoding;
    create_db(options);
    LmdbSegmentation dataset(path("db/train_db"));
    ASSERT_EQ(dataset.size().value(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      const auto example = dataset.get(i);
      EXPECT_TRUE(torch::equal(
          example.data, samples[i].image.permute({2, 0, 1}).to(torch::kFloat)));
      EXPECT_TRUE(
          torch::equal(example.target, samples[i].label.to(torch::kLong)));
    }
  }
}

TEST_F(LmdbDbTest, ReadsRawDatumsWrittenLikeDigits) {
  const auto image = torch::randint(0, 256, {3, 5, 7}, torch::kByte);
  const auto label = torch::randint(0, 21, {1, 5, 7}, torch::kByte);
  write_digits_lmdb(path("digits/train_db/features"), {image});
  write_digits_lmdb(path("digits/train_db/labels"), {label});
  LmdbSegmentation dataset(path("digits/train_db"));
  const auto example = dataset.get(0);
  EXPECT_TRUE(torch::equal(example.data, image.to(torch::kFloat)));
  EXPECT_TRUE(torch::equal(example.target, label[0].to(torch::kLong)));
}

TEST_F(LmdbDbTest, ValPercentSplitsDeterministically) {
  write_tree(path("img"), path("lbl"), 10);
  auto options = db_options();
  options.val_percent = 30;
  options.seed = 5;
  const auto report = create_db(options);
  EXPECT_EQ(report.train, 7u);
  EXPECT_EQ(report.val, 3u);
  const auto first = read_lmdb(path("db/val_db/labels"));
  options.out_dir = path("db2");
  create_db(options);
  EXPECT_EQ(read_lmdb(path("db2/val_db/labels")), first);
}

TEST_F(LmdbDbTest, ResizeEnforcesOneShape) {
  write_tree(path("img"), path("lbl"), 3);
  auto options = db_options();
  options.resize_width = 16;
  options.resize_height = 12;
  create_db(options);
  LmdbSegmentation dataset(path("db/train_db"));
  for (size_t i = 0; i < 3; ++i) {
    const auto example = dataset.get(i);
    EXPECT_EQ(example.data.sizes(), torch::IntArrayRef({3, 12, 16}));
    // Nearest-neighbour resizing invents no label values.
    const auto values = std::get<0>(torch::_unique(example.target));
    for (int64_t j = 0; j < values.size(0); ++j) {
      const auto v = values[j].item<int64_t>();
      EXPECT_TRUE(v == 0 || v == 255 || v == 1 + int64_t(i) % 20) << v;
    }
  }
}

TEST_F(LmdbDbTest, BadSamplesFailOrAreSkipped) {
  write_tree(path("img"), path("lbl"), 3);
  std::ofstream(path("img/s1.png"), std::ios::binary) << "broken";
  auto options = db_options();
  EXPECT_NE(
      testing::error_message_of([&] {
        create_db(options);
      }).find("image " + path("img/s1.png") + " is not a readable image"),
      std::string::npos);
  EXPECT_FALSE(fs::exists(path("db")));

  options.skip_bad = true;
  const auto report = create_db(options);
  EXPECT_EQ(report.train, 2u);
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_NE(report.skipped[0].find("s1.png: image"), std::string::npos);
  std::ifstream skipped(path("db/skipped.txt"));
  std::string line;
  std::getline(skipped, line);
  EXPECT_EQ(line, report.skipped[0]);
  EXPECT_EQ(LmdbSegmentation(path("db/train_db")).size().value(), 2u);
}

TEST_F(LmdbDbTest, TheMapGrowsWhenFull) {
  // ~81 MiB of raw pixels: more than the initial 64 MiB map.
  write_tree(path("img"), path("lbl"), 12, 1500, 1500);
  auto options = db_options();
  options.feature_encoding = Encoding::kNone;
  EXPECT_EQ(create_db(options).train, 12u);
  EXPECT_GT(
      fs::file_size(path("db/train_db/features/data.mdb")), size_t{64} << 20);
  // Samples are in basename order: s0, s1, s10, s11, ...
  EXPECT_EQ(LmdbSegmentation(path("db/train_db")).get(3).data.size(1), 1511);
}

TEST_F(LmdbDbTest, ExploreCountsAndDrawsAMontage) {
  write_tree(path("img"), path("lbl"), 4);
  auto options = db_options();
  create_db(options);
  LmdbSegmentation dataset(path("db/train_db"));
  const auto stats = dataset_stats(dataset);
  EXPECT_EQ(stats.entries, 4u);
  EXPECT_EQ(stats.sizes.at({24, 32}), 1u);
  int64_t pixels = 0;
  for (const auto count : stats.class_pixels) {
    pixels += count;
  }
  EXPECT_EQ(pixels, 24 * 32 + 25 * 32 + 26 * 32 + 27 * 32);
  // Class 1 is the 16x12 inside of the first sample's rectangle, less its
  // 1-pixel 255 outline: 14 x 10.
  EXPECT_EQ(stats.class_pixels[1], 14 * 10);
  EXPECT_NE(
      stats.to_string(voc_class_names()).find("aeroplane"), std::string::npos);
  write_montage(dataset, path("montage.png"), 3, voc_palette(), 40);
  EXPECT_GT(fs::file_size(path("montage.png")), 100u);
}

TEST_F(LmdbDbTest, ATruncatedDatabaseIsNamedNotACrash) {
  write_tree(path("img"), path("lbl"), 3);
  auto options = db_options();
  create_db(options);
  const auto file = path("db/train_db/features/data.mdb");
  const auto whole = fs::file_size(file);
  const auto copy = path("copy/features/data.mdb");
  // Cut in the data pages, just past the two 4 KiB meta pages, inside the
  // second meta page (LMDB reads only its header), inside the first, and
  // nothing left.
  const std::vector<std::pair<uintmax_t, std::string>> cuts{
      {whole / 2, "data.mdb is truncated: " + std::to_string(whole / 2)},
      {8292,
       "data.mdb is truncated: 8292 bytes, but its pages reach byte " +
           std::to_string(whole)},
      {5000, "data.mdb is truncated: 5000 bytes"},
      {100, "open failed: MDB_INVALID"},
      {0, "data.mdb is empty"}};
  for (const auto& [size, expected] : cuts) {
    ASSERT_LT(size, whole);
    fs::remove_all(path("copy"));
    fs::create_directories(path("copy/labels"));
    fs::copy(path("db/train_db/labels"), path("copy/labels"));
    fs::create_directories(path("copy/features"));
    fs::copy_file(file, copy);
    fs::resize_file(copy, size);
    const auto message =
        testing::error_message_of([&] { LmdbSegmentation(path("copy")); });
    EXPECT_NE(
        message.find("lmdb " + path("copy/features") + ": " + expected),
        std::string::npos)
        << message;
  }
  EXPECT_EQ(LmdbSegmentation(path("db/train_db")).size().value(), 3u);
}

TEST_F(LmdbDbTest, NotADatabase) {
  fs::create_directories(path("x/features"));
  fs::create_directories(path("x/labels"));
  EXPECT_NE(
      testing::error_message_of([&] {
        LmdbSegmentation(path("x"));
      }).find("lmdb " + path("x/features") + ": no data.mdb"),
      std::string::npos);
  EXPECT_NE(
      testing::error_message_of([&] {
        LmdbSegmentation(path("nothing"));
      }).find("has no features/ and labels/ databases"),
      std::string::npos);
}

} // namespace
} // namespace data
} // namespace fcnlab
