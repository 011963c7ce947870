#include <fcnlab/data/augment.h>
#include <fcnlab/data/loader.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <torch/torch.h>

#include <algorithm>
#include <mutex>

namespace fcnlab {
namespace data {
namespace {

using AugmentTest = testing::SeededTest;

constexpr double kStep = 12; // image value per class

// Blocks of 16 x 16 pixels with random classes 1..20 on an H x W label, and
// an image whose three channels are 12 x the class: the label can be read
// back from the image's own pixels.
SegmentationExample coded_sample(int64_t height, int64_t width) {
  const auto blocks = torch::randint(
      1, 21, {(height + 15) / 16, (width + 15) / 16}, torch::kLong);
  const auto label = blocks.repeat_interleave(16, 0)
                         .repeat_interleave(16, 1)
                         .narrow(0, 0, height)
                         .narrow(1, 0, width)
                         .contiguous();
  const auto image =
      (label.to(torch::kFloat) * kStep).unsqueeze(0).repeat({3, 1, 1});
  return {image, label};
}

// Labelled pixels whose 5 x 5 neighbourhood has one class (interpolation
// mixes classes only at block edges) must read back their label.
void expect_aligned(
    const SegmentationExample& out,
    bool exact,
    const std::string& what) {
  const auto label = out.target;
  const auto decoded = (out.data[0] / kStep).round().to(torch::kLong);
  const auto labelled = label != 255;
  auto uniform = labelled.clone();
  if (!exact) {
    const auto padded = torch::constant_pad_nd(label, {2, 2, 2, 2}, 255);
    for (int dy = 0; dy < 5; ++dy) {
      for (int dx = 0; dx < 5; ++dx) {
        uniform &=
            padded.narrow(0, dy, label.size(0)).narrow(1, dx, label.size(1)) ==
            label;
      }
    }
  }
  const auto checked = uniform.sum().item<int64_t>();
  EXPECT_GT(checked, labelled.sum().item<int64_t>() / 3) << what;
  const auto wrong = (uniform & (decoded != label)).sum().item<int64_t>();
  EXPECT_EQ(wrong, 0) << what << ": " << wrong << " of " << checked;
}

TEST_F(AugmentTest, EveryTransformKeepsImageAndLabelAligned) {
  const auto sample = coded_sample(96, 128);
  const std::vector<std::tuple<std::string, AugmentOptions, bool>> cases = {
      {"flip", AugmentOptions().flip(true), true},
      {"quarter turns", AugmentOptions().quarter_turns(true), true},
      {"crop", AugmentOptions().crop_height(64).crop_width(80), true},
      {"pad", AugmentOptions().crop_height(120).crop_width(150), true},
      {"scale", AugmentOptions().scale_min(0.6).scale_max(1.5), false},
      {"rotation", AugmentOptions().rotation(20), false},
      {"all",
       AugmentOptions()
           .flip(true)
           .quarter_turns(true)
           .scale_min(0.7)
           .scale_max(1.3)
           .rotation(10)
           .crop_height(80)
           .crop_width(80),
       false}};
  for (const auto& [what, options, exact] : cases) {
    for (uint64_t seed = 0; seed < 6; ++seed) {
      const auto out = augment(sample, options, seed);
      expect_aligned(out, exact, what + " seed " + std::to_string(seed));
    }
  }
}

TEST_F(AugmentTest, SameSeedSameSampleAndSeedsDiffer) {
  const auto sample = coded_sample(64, 80);
  const auto options = AugmentOptions()
                           .flip(true)
                           .scale_min(0.8)
                           .scale_max(1.2)
                           .rotation(10)
                           .hue(10)
                           .noise(3);
  const auto a = augment(sample, options, 7);
  const auto b = augment(sample, options, 7);
  EXPECT_TRUE(torch::equal(a.data, b.data));
  EXPECT_TRUE(torch::equal(a.target, b.target));
  const auto c = augment(sample, options, 8);
  EXPECT_FALSE(
      a.data.sizes() == c.data.sizes() && torch::equal(a.data, c.data));
}

TEST_F(AugmentTest, ColorTransformsLeaveTheLabelAndGeometryAlone) {
  auto sample = coded_sample(32, 48);
  sample.data[1].mul_(0.5); // some color, so that hue has something to turn
  for (const auto& options :
       {AugmentOptions().hue(30),
        AugmentOptions().saturation(0.5),
        AugmentOptions().brightness(0.5),
        AugmentOptions().noise(5)}) {
    const auto out = augment(sample, options, 3);
    EXPECT_TRUE(torch::equal(out.target, sample.target));
    EXPECT_EQ(out.data.sizes(), sample.data.sizes());
    EXPECT_FALSE(torch::allclose(out.data, sample.data));
    EXPECT_GE(out.data.min().item<float>(), 0.0f);
    EXPECT_LE(out.data.max().item<float>(), 255.0f);
  }
}

TEST_F(AugmentTest, PaddingIsIgnoredAndFillsTheRest) {
  const auto sample = coded_sample(30, 40);
  const auto out =
      augment(sample, AugmentOptions().crop_height(50).crop_width(60), 1);
  EXPECT_EQ(out.target.sizes(), (std::vector<int64_t>{50, 60}));
  EXPECT_EQ(out.data.sizes(), (std::vector<int64_t>{3, 50, 60}));
  EXPECT_EQ((out.target == 255).sum().item<int64_t>(), 50 * 60 - 30 * 40);
}

TEST_F(AugmentTest, OffIsTheIdentityAndNonsenseIsNamed) {
  const auto sample = coded_sample(20, 20);
  const auto out = augment(sample, AugmentOptions(), 1);
  EXPECT_TRUE(torch::equal(out.data, sample.data));
  EXPECT_FALSE(AugmentOptions().enabled());
  const auto message = [](const AugmentOptions& o) {
    return testing::error_message_of([&] { check_augment_options(o); });
  };
  EXPECT_NE(
      message(AugmentOptions().scale_min(2).scale_max(1))
          .find("scale range [2, 1]"),
      std::string::npos);
  EXPECT_NE(
      message(AugmentOptions().scale_min(0)).find("0 < min <= max"),
      std::string::npos);
  EXPECT_NE(
      message(AugmentOptions().rotation(200))
          .find("rotation must be in [0, 180]"),
      std::string::npos);
  EXPECT_NE(
      message(AugmentOptions().crop_height(10)).find("crop must be"),
      std::string::npos);
  EXPECT_NE(
      message(AugmentOptions().saturation(2))
          .find("saturation must be in [0, 1]"),
      std::string::npos);
  EXPECT_NE(
      message(AugmentOptions().noise(-1)).find("noise must be >= 0"),
      std::string::npos);
}

// A dataset of coded samples, deterministic by index. The loader's workers
// call get() at once: seeding and drawing from the global generator is
// one step under the lock, or a sample would depend on the timing.
class CodedDataset : public SegmentationDataset {
 public:
  SegmentationExample get(size_t index) override {
    const std::lock_guard<std::mutex> lock(mutex_);
    torch::manual_seed(index);
    return coded_sample(40, 48);
  }
  c10::optional<size_t> size() const override {
    return 6;
  }
  std::string name(size_t index) const override {
    return std::to_string(index);
  }

 private:
  std::mutex mutex_;
};

TEST_F(AugmentTest, TheLoaderDrawsBySeedEpochAndSampleNotByTiming) {
  const auto options = LoaderOptions().workers(3).seed(5).augment(
      AugmentOptions().flip(true).crop_height(32).crop_width(32).rotation(5));
  auto dataset = std::make_shared<CodedDataset>();
  Loader whole(dataset, options);
  whole.start_epoch(1);
  std::vector<at::Tensor> seen;
  while (auto batch = whole.next()) {
    seen.push_back(batch->images);
  }
  ASSERT_EQ(seen.size(), 6u);
  Loader resumed(dataset, LoaderOptions(options).workers(1));
  resumed.start_epoch(1, /*skip=*/4); // as a resume mid-epoch does
  for (size_t i = 4; i < 6; ++i) {
    const auto batch = resumed.next();
    ASSERT_TRUE(batch.has_value());
    EXPECT_TRUE(torch::equal(batch->images, seen[i])) << i;
  }
  Loader other_epoch(dataset, options);
  other_epoch.start_epoch(2);
  bool any_different = false;
  const auto order1 = whole.order(1), order2 = other_epoch.order(2);
  for (size_t i = 0; i < 6; ++i) {
    const auto batch = other_epoch.next();
    // The same sample in another epoch is drawn anew.
    const size_t same =
        std::find(order1.begin(), order1.end(), order2[i]) - order1.begin();
    any_different |= !torch::equal(batch->images, seen[same]);
  }
  EXPECT_TRUE(any_different);
}

} // namespace
} // namespace data
} // namespace fcnlab
