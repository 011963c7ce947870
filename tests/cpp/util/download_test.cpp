#include <fcnlab/caffe/model_zoo.h>
#include <fcnlab/util/atomic_file.h>
#include <fcnlab/util/download.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <fstream>

namespace fcnlab {
namespace util {
namespace {

using DownloadTest = testing::SeededTest;

// FIPS 180 test vectors.
constexpr const char* kSha1OfAbc = "a9993e364706816aba3e25717850c26c9cd0d89d";
constexpr const char* kSha1OfEmpty = "da39a3ee5e6b4b0d3255bfef95601890afd80709";

TEST_F(DownloadTest, Sha1OfKnownVectors) {
  std::ofstream(path("abc")) << "abc";
  std::ofstream(path("empty")).close();
  EXPECT_EQ(sha1_file(path("abc")), kSha1OfAbc);
  EXPECT_EQ(sha1_file(path("empty")), kSha1OfEmpty);
}

TEST_F(DownloadTest, DownloadsAndChecksTheSha1) {
  std::ofstream(path("source")) << "abc";
  download("file://" + path("source"), path("copy"), kSha1OfAbc);
  EXPECT_EQ(read_file(path("copy"), "test"), "abc");
}

TEST_F(DownloadTest, WrongSha1LeavesNothingBehind) {
  std::ofstream(path("source")) << "abd";
  const auto message = testing::error_message_of(
      [&] { download("file://" + path("source"), path("copy"), kSha1OfAbc); });
  EXPECT_NE(
      message.find("expected " + std::string(kSha1OfAbc)), std::string::npos)
      << message;
  EXPECT_FALSE(std::filesystem::exists(path("copy")));
  EXPECT_EQ(
      std::distance(
          std::filesystem::directory_iterator(dir_),
          std::filesystem::directory_iterator()),
      1);
}

TEST_F(DownloadTest, UnreachableHostIsAClearError) {
  // .invalid never resolves (RFC 2606).
  const auto message = testing::error_message_of([&] {
    download("http://weights.invalid/bvlc_alexnet.caffemodel", path("x"));
  });
  EXPECT_NE(
      message.find(
          "cannot download http://weights.invalid/bvlc_alexnet.caffemodel"),
      std::string::npos)
      << message;
  EXPECT_FALSE(std::filesystem::exists(path("x")));
}

TEST_F(DownloadTest, FetchUsesTheCacheOnceVerified) {
  std::ofstream(path("published")) << "abc";
  const caffe::ZooModel model{
      "net.caffemodel", "file://" + path("published"), kSha1OfAbc, "test"};
  const std::string cache = path("cache");
  const std::string fetched = caffe::fetch(model, cache);
  EXPECT_EQ(fetched, cache + "/net.caffemodel");
  EXPECT_EQ(read_file(fetched, "test"), "abc");
  std::filesystem::remove(path("published"));
  EXPECT_EQ(caffe::fetch(model, cache), fetched); // no second download
}

TEST_F(DownloadTest, KnownZooEntries) {
  EXPECT_EQ(
      caffe::bvlc_alexnet().sha1, "9116a64c0fbe4459d18f4bb6b56d647b63920377");
  EXPECT_EQ(
      caffe::bvlc_alexnet().url,
      "http://dl.caffe.berkeleyvision.org/bvlc_alexnet.caffemodel");
  // Each network's surgery starts from its own ImageNet classifier.
  EXPECT_EQ(
      caffe::imagenet_classifier("fcn_alexnet").file_name,
      "bvlc_alexnet.caffemodel");
  EXPECT_EQ(
      caffe::imagenet_classifier("fcn8s_atonce").file_name,
      "VGG_ILSVRC_16_layers.caffemodel");
  EXPECT_EQ(
      caffe::fcn_pascal("fcn8s").url,
      "http://dl.caffe.berkeleyvision.org/fcn8s-heavy-pascal.caffemodel");
  EXPECT_NE(
      testing::error_message_of([] { caffe::fcn_pascal("fcn4s"); })
          .find("no published PASCAL model for 'fcn4s'"),
      std::string::npos);
}

} // namespace
} // namespace util
} // namespace fcnlab
