// Same-shape batches: trains FCN-Alexnet with the Trainer at iter_size 4
// on VOC-like image sizes, images of equal size in an update batched
// together, against the same updates one image at a time; rounds alternate
// the two so that a slower spell of the machine hits both. Prints JSON.
//   same_shape_bench HEIGHT WIDTH IMAGES THREADS [rounds3] [one-size]
// The images are HEIGHTxWIDTH, WIDTHxHEIGHT and HEIGHTx(2/3 WIDTH) in VOC's
// proportions (about 6 : 3 : 1); with one-size all are HEIGHTxWIDTH, so
// every update is one batch: the most batching can give.
#include <fcnlab/models/fcn_alexnet.h>
#include <fcnlab/train/trainer.h>

#include "args.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

namespace {

class RandomImages : public fcnlab::data::SegmentationDataset {
 public:
  RandomImages(int64_t count, int64_t height, int64_t width, bool one_size) {
    for (int64_t i = 0; i < count; ++i) {
      const int64_t kind = one_size ? 0 : i % 10;
      const int64_t h = kind < 6 ? height : kind < 9 ? width : height;
      const int64_t w = kind < 6 ? width : kind < 9 ? height : width * 2 / 3;
      examples_.push_back(
          {torch::rand({3, h, w}) * 255,
           torch::randint(0, 21, {h, w}, torch::kLong)});
    }
  }
  fcnlab::data::SegmentationExample get(size_t index) override {
    return examples_.at(index);
  }
  c10::optional<size_t> size() const override {
    return examples_.size();
  }
  std::string name(size_t index) const override {
    return std::to_string(index);
  }

 private:
  std::vector<fcnlab::data::SegmentationExample> examples_;
};

double images_per_second(
    const std::shared_ptr<RandomImages>& data,
    bool batched,
    int threads,
    const std::string& dir) {
  torch::manual_seed(0);
  fcnlab::models::FcnAlexNet model(fcnlab::models::FcnAlexNetOptions(21));
  fcnlab::train::Trainer trainer(
      model,
      data,
      nullptr,
      fcnlab::train::TrainerOptions()
          .epochs(1)
          .solver(fcnlab::train::SolverOptions().iter_size(4))
          .batch_equal_sizes(batched)
          .output_dir(dir)
          .threads(threads)
          .snapshot_every(1000)
          .progress(false));
  double rate = 0;
  trainer.on_iteration([&](const fcnlab::train::IterationInfo& info) {
    rate = info.images_per_second;
    return true;
  });
  trainer.train();
  return rate;
}

} // namespace

int main(int argc, char** argv) {
  const auto args = fcnlab::bench::parse_model_args(
      argc, argv, "IMAGES", {"rounds3", "one-size"});
  const int rounds = args.has("rounds3") ? 3 : 1;
  at::set_num_threads(args.threads);
  auto data = std::make_shared<RandomImages>(
      args.count, args.height, args.width, args.has("one-size"));
  const auto dir =
      std::filesystem::temp_directory_path() / "fcnlab_same_shape_bench";
  std::vector<double> batched, single;
  for (int round = 0; round < rounds; ++round) {
    batched.push_back(
        images_per_second(data, true, args.threads, dir.string()));
    single.push_back(
        images_per_second(data, false, args.threads, dir.string()));
  }
  std::filesystem::remove_all(dir);
  std::sort(batched.begin(), batched.end());
  std::sort(single.begin(), single.end());
  const double b = batched[batched.size() / 2], s = single[single.size() / 2];
  std::printf(
      "{\"batched_images_per_second\": %.4f, "
      "\"single_images_per_second\": %.4f, \"ratio\": %.3f}\n",
      b,
      s,
      b / s);
  return 0;
}
