#include <fcnlab/data/loader.h>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <numeric>
#include <random>

namespace fcnlab {
namespace data {

Loader::Loader(
    std::shared_ptr<SegmentationDataset> dataset,
    LoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  TORCH_CHECK_VALUE(dataset_, "the loader needs a dataset");
  check_augment_options(options_.augment());
  TORCH_CHECK_VALUE(
      options_.workers() >= 1 && options_.prefetch() >= 1 &&
          options_.max_batch() >= 1,
      "loader workers, prefetch and max_batch must be >= 1");
  size_ = dataset_->size().value();
}

Loader::~Loader() {
  stop();
}

std::vector<size_t> Loader::order(int64_t epoch) const {
  std::vector<size_t> order(size_);
  std::iota(order.begin(), order.end(), 0);
  if (options_.shuffle()) {
    std::mt19937_64 rng(options_.seed() + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), rng);
  }
  return order;
}

void Loader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& worker : workers_) {
    worker.join();
  }
  workers_.clear();
}

void Loader::start_epoch(int64_t epoch, size_t skip) {
  stop();
  epoch_ = epoch;
  order_ = order(epoch);
  next_claim_ = std::min(skip, order_.size());
  next_take_ = next_claim_;
  ready_.clear();
  held_.reset();
  stopping_ = false;
  for (int i = 0; i < options_.workers(); ++i) {
    workers_.emplace_back([this] { work(); });
  }
}

void Loader::work() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    // Stay within `prefetch` samples of the consumer.
    changed_.wait(lock, [&] {
      return stopping_ || next_claim_ >= order_.size() ||
          next_claim_ < next_take_ + static_cast<size_t>(options_.prefetch());
    });
    if (stopping_ || next_claim_ >= order_.size()) {
      return;
    }
    const size_t position = next_claim_++;
    const size_t index = order_[position];
    lock.unlock();
    Slot slot;
    slot.index = index;
    try {
      slot.example = augment(
          dataset_->get(index),
          options_.augment(),
          augment_seed(options_.seed(), epoch_, index));
    } catch (...) {
      slot.error = std::current_exception();
    }
    lock.lock();
    ready_.emplace(position, std::move(slot));
    changed_.notify_all();
  }
}

Loader::Slot Loader::take(size_t position) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return ready_.count(position) > 0; });
  Slot slot = std::move(ready_.at(position));
  ready_.erase(position);
  next_take_ = position + 1;
  changed_.notify_all();
  return slot;
}

std::optional<Batch> Loader::next() {
  TORCH_CHECK(!order_.empty() || size_ == 0, "call start_epoch() first");
  std::vector<at::Tensor> images, labels;
  Batch batch;
  while (static_cast<int64_t>(images.size()) < options_.max_batch()) {
    if (!held_) {
      if (next_take_ >= order_.size()) {
        break;
      }
      held_ = take(next_take_);
      if (held_->error) {
        const auto error = held_->error;
        held_.reset();
        std::rethrow_exception(error);
      }
    }
    // A sample of another size starts the next batch.
    if (!images.empty() &&
        held_->example.data.sizes() != images.front().sizes()) {
      break;
    }
    images.push_back(held_->example.data);
    labels.push_back(held_->example.target);
    batch.indices.push_back(held_->index);
    held_.reset();
  }
  if (images.empty()) {
    return std::nullopt;
  }
  batch.images = at::stack(images);
  batch.labels = at::stack(labels);
  if (options_.pin_memory()) {
    batch.images = batch.images.pin_memory();
    batch.labels = batch.labels.pin_memory();
  }
  return batch;
}

} // namespace data
} // namespace fcnlab
