#include <fcnlab/data/loader.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <torch/torch.h>

#include <chrono>
#include <set>
#include <thread>

namespace fcnlab {
namespace data {
namespace {

using LoaderTest = testing::SeededTest;

// In-memory samples whose pixels hold their index; sample `failing` throws;
// loading takes a varying time so that workers finish out of order.
class FakeDataset : public SegmentationDataset {
 public:
  FakeDataset(std::vector<int64_t> heights, int64_t failing = -1)
      : heights_(std::move(heights)), failing_(failing) {}
  SegmentationExample get(size_t index) override {
    std::this_thread::sleep_for(
        std::chrono::microseconds(200 * ((index * 7) % 5)));
    TORCH_CHECK(int64_t(index) != failing_, "sample ", index, " is broken");
    const int64_t h = heights_[index];
    return {
        torch::full({3, h, 4}, float(index)),
        torch::full({h, 4}, int64_t(index))};
  }
  c10::optional<size_t> size() const override {
    return heights_.size();
  }
  std::string name(size_t index) const override {
    return std::to_string(index);
  }

 private:
  std::vector<int64_t> heights_;
  int64_t failing_;
};

std::vector<size_t> drain(Loader& loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<size_t> seen;
  while (auto batch = loader.next()) {
    for (int64_t i = 0; i < batch->images.size(0); ++i) {
      const auto index = size_t(batch->images[i][0][0][0].item<float>());
      EXPECT_EQ(index, batch->indices[size_t(i)]);
      EXPECT_EQ(batch->labels[i][0][0].item<int64_t>(), int64_t(index));
      seen.push_back(index);
    }
  }
  return seen;
}

TEST_F(LoaderTest, EveryEpochVisitsEachSampleOnceInASeededOrder) {
  auto dataset = std::make_shared<FakeDataset>(std::vector<int64_t>(20, 5));
  Loader loader(dataset, LoaderOptions().workers(3).seed(11));
  const auto epoch0 = drain(loader, 0);
  const auto epoch1 = drain(loader, 1);
  EXPECT_EQ(std::set<size_t>(epoch0.begin(), epoch0.end()).size(), 20u);
  EXPECT_EQ(epoch0.size(), 20u);
  EXPECT_NE(epoch0, epoch1);
  EXPECT_EQ(epoch0, loader.order(0));

  Loader single(dataset, LoaderOptions().workers(1).seed(11));
  EXPECT_EQ(drain(single, 0), epoch0);
  Loader other_seed(dataset, LoaderOptions().workers(3).seed(12));
  EXPECT_NE(drain(other_seed, 0), epoch0);
}

TEST_F(LoaderTest, NoShuffleKeepsDatasetOrder) {
  auto dataset = std::make_shared<FakeDataset>(std::vector<int64_t>(6, 5));
  Loader loader(dataset, LoaderOptions().shuffle(false));
  EXPECT_EQ(drain(loader, 3), (std::vector<size_t>{0, 1, 2, 3, 4, 5}));
}

TEST_F(LoaderTest, GroupsOnlySamplesOfEqualSize) {
  auto dataset = std::make_shared<FakeDataset>(
      std::vector<int64_t>{5, 5, 5, 6, 6, 5, 5, 5, 5, 5});
  Loader loader(dataset, LoaderOptions().shuffle(false).max_batch(3));
  loader.start_epoch(0);
  std::vector<int64_t> sizes;
  while (auto batch = loader.next()) {
    sizes.push_back(batch->images.size(0));
    EXPECT_EQ(batch->images.size(2), batch->labels.size(1));
  }
  EXPECT_EQ(sizes, (std::vector<int64_t>{3, 2, 3, 2}));
}

TEST_F(LoaderTest, GroupsBatchEqualSizesWithinAnUpdate) {
  // Heights by position, in groups of 4 (updates): 5 6 5 5 | 6 6 5 6 | 5 5.
  auto dataset = std::make_shared<FakeDataset>(
      std::vector<int64_t>{5, 6, 5, 5, 6, 6, 5, 6, 5, 5});
  Loader loader(dataset, LoaderOptions().shuffle(false).max_batch(4).group(4));
  loader.start_epoch(0);
  std::vector<std::vector<size_t>> batches;
  while (auto batch = loader.next()) {
    batches.push_back(batch->indices);
    for (int64_t i = 0; i < batch->images.size(0); ++i) {
      EXPECT_EQ(
          batch->images[i][0][0][0].item<float>(), float(batch->indices[i]));
    }
  }
  // Sizes in the order they first appear in each group; never across one.
  const std::vector<std::vector<size_t>> expected{
      {0, 2, 3}, {1}, {4, 5, 7}, {6}, {8, 9}};
  EXPECT_EQ(batches, expected);

  // A resume at an update boundary starts with that group.
  loader.start_epoch(0, 4);
  EXPECT_EQ(loader.next()->indices, (std::vector<size_t>{4, 5, 7}));

  Loader capped(dataset, LoaderOptions().shuffle(false).max_batch(2).group(4));
  capped.start_epoch(0);
  EXPECT_EQ(capped.next()->indices, (std::vector<size_t>{0, 2}));
  EXPECT_EQ(capped.next()->indices, (std::vector<size_t>{3}));
}

TEST_F(LoaderTest, ShardsSplitThePaddedOrderStrided) {
  auto dataset = std::make_shared<FakeDataset>(std::vector<int64_t>(7, 5));
  const auto whole = Loader(dataset, LoaderOptions().seed(5)).order(2);
  for (const int64_t count : {2, 3}) {
    // ceil(7 / count) each; the order's head repeats to fill the last.
    std::vector<size_t> padded = whole;
    const size_t per_shard = (7 + count - 1) / count;
    for (size_t i = 0; padded.size() < per_shard * count; ++i) {
      padded.push_back(whole[i]);
    }
    for (int64_t rank = 0; rank < count; ++rank) {
      Loader shard(
          dataset, LoaderOptions().seed(5).shard_rank(rank).shard_count(count));
      EXPECT_EQ(shard.size(), per_shard);
      std::vector<size_t> expected;
      for (size_t p = rank; p < padded.size(); p += count) {
        expected.push_back(padded[p]);
      }
      EXPECT_EQ(shard.order(2), expected) << rank << " of " << count;
      EXPECT_EQ(drain(shard, 2), expected);
    }
  }
  EXPECT_THROW(
      Loader(dataset, LoaderOptions().shard_rank(2).shard_count(2)),
      c10::ValueError);
}

TEST_F(LoaderTest, AWorkerErrorArrivesAtItsSample) {
  auto dataset = std::make_shared<FakeDataset>(std::vector<int64_t>(8, 5), 4);
  Loader loader(dataset, LoaderOptions().shuffle(false).workers(2));
  loader.start_epoch(0);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(loader.next().has_value());
  }
  EXPECT_NE(
      testing::error_message_of([&] {
        loader.next();
      }).find("sample 4 is broken"),
      std::string::npos);
  EXPECT_EQ(loader.next()->indices[0], 5u);
}

TEST_F(LoaderTest, StoppingEarlyShutsDownCleanly) {
  auto dataset = std::make_shared<FakeDataset>(std::vector<int64_t>(200, 5));
  for (int round = 0; round < 5; ++round) {
    Loader loader(dataset, LoaderOptions().workers(4).prefetch(3));
    loader.start_epoch(round);
    loader.next();
    loader.next();
  } // destroyed mid-epoch: must not hang or crash
  SUCCEED();
}

} // namespace
} // namespace data
} // namespace fcnlab
