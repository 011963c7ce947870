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
          options_.max_batch() >= 1 && options_.group() >= 1,
      "loader workers, prefetch, max_batch and group must be >= 1");
  TORCH_CHECK_VALUE(
      options_.shard_count() >= 1 && options_.shard_rank() >= 0 &&
          options_.shard_rank() < options_.shard_count(),
      "loader shard ",
      options_.shard_rank(),
      " of ",
      options_.shard_count(),
      " does not exist");
  const auto shards = static_cast<size_t>(options_.shard_count());
  size_ = (dataset_->size().value() + shards - 1) / shards;
}

Loader::~Loader() {
  stop();
}

std::vector<size_t> Loader::order(int64_t epoch) const {
  std::vector<size_t> order(dataset_->size().value());
  std::iota(order.begin(), order.end(), 0);
  if (options_.shuffle()) {
    std::mt19937_64 rng(options_.seed() + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), rng);
  }
  const auto shards = static_cast<size_t>(options_.shard_count());
  if (shards == 1 || order.empty()) {
    return order;
  }
  std::vector<size_t> shard;
  for (size_t p = static_cast<size_t>(options_.shard_rank());
       p < size_ * shards;
       p += shards) {
    shard.push_back(order[p % order.size()]);
  }
  return shard;
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
  grouped_.clear();
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
  if (options_.group() <= 1) {
    return next_run();
  }
  if (grouped_.empty()) {
    load_group();
  }
  if (grouped_.empty()) {
    return std::nullopt;
  }
  Batch batch = std::move(grouped_.front());
  grouped_.pop_front();
  return batch;
}

std::optional<Batch> Loader::next_run() {
  std::vector<Slot> slots;
  while (static_cast<int64_t>(slots.size()) < options_.max_batch()) {
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
    if (!slots.empty() &&
        held_->example.data.sizes() != slots.front().example.data.sizes()) {
      break;
    }
    slots.push_back(std::move(*held_));
    held_.reset();
  }
  if (slots.empty()) {
    return std::nullopt;
  }
  return make_batch(std::move(slots));
}

void Loader::load_group() {
  const auto group = static_cast<size_t>(options_.group());
  const size_t end = std::min(order_.size(), (next_take_ / group + 1) * group);
  // Samples by size, sizes in the order they first appear.
  std::vector<std::vector<Slot>> by_size;
  while (next_take_ < end) {
    Slot slot = take(next_take_);
    if (slot.error) {
      std::rethrow_exception(slot.error);
    }
    auto same = std::find_if(by_size.begin(), by_size.end(), [&](auto& s) {
      return s.front().example.data.sizes() == slot.example.data.sizes();
    });
    if (same == by_size.end()) {
      by_size.emplace_back();
      same = std::prev(by_size.end());
    }
    same->push_back(std::move(slot));
  }
  const auto max_batch = static_cast<size_t>(options_.max_batch());
  for (auto& slots : by_size) {
    for (size_t first = 0; first < slots.size(); first += max_batch) {
      const size_t last = std::min(slots.size(), first + max_batch);
      grouped_.push_back(make_batch(std::vector<Slot>(
          std::make_move_iterator(slots.begin() + first),
          std::make_move_iterator(slots.begin() + last))));
    }
  }
}

Batch Loader::make_batch(std::vector<Slot> slots) const {
  std::vector<at::Tensor> images, labels;
  Batch batch;
  for (auto& slot : slots) {
    images.push_back(std::move(slot.example.data));
    labels.push_back(std::move(slot.example.target));
    batch.indices.push_back(slot.index);
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
