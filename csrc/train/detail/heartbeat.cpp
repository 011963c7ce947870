#include "heartbeat.h"

namespace fcnlab {
namespace train {
namespace detail {
namespace {

std::string key(int64_t rank) {
  return "fcnlab/heartbeat/" + std::to_string(rank);
}

} // namespace

Heartbeat::Heartbeat(
    c10::intrusive_ptr<c10d::Store> store,
    int64_t rank,
    int64_t world_size,
    std::chrono::milliseconds period)
    : store_(std::move(store)),
      rank_(rank),
      world_size_(world_size),
      period_(period) {
  store_->setTimeout(period_ * 4);
  thread_ = std::thread([this] { beat(); });
}

Heartbeat::~Heartbeat() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Heartbeat::beat() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (int64_t count = 0; !stopping_; ++count) {
    try {
      const std::string text = std::to_string(count);
      store_->set(key(rank_), std::vector<uint8_t>(text.begin(), text.end()));
    } catch (...) {
      // The store's host left (the job is ending or broken): nothing to do;
      // silent_ranks() reports it when a collective fails.
    }
    wake_.wait_for(lock, period_, [this] { return stopping_; });
  }
}

std::vector<int64_t> Heartbeat::counters() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<int64_t> values(static_cast<size_t>(world_size_), kNotCountedYet);
  for (int64_t r = 0; r < world_size_; ++r) {
    try {
      if (store_->check({key(r)})) {
        const auto bytes = store_->get(key(r));
        values[r] = std::stoll(std::string(bytes.begin(), bytes.end()));
      }
    } catch (...) {
      return std::vector<int64_t>(values.size(), kStoreGone);
    }
  }
  return values;
}

std::string Heartbeat::silent_ranks() {
  const auto before = counters();
  std::this_thread::sleep_for(period_ * 5);
  const auto after = counters();
  std::string silent;
  for (int64_t r = 0; r < world_size_; ++r) {
    if (after[r] == kStoreGone) {
      return "the job's store does not answer (its host, rank 0 unless "
             "torchrun's agent holds it, is gone)";
    }
    if (r != rank_ && after[r] == before[r]) {
      silent += (silent.empty() ? "rank " : ", rank ") + std::to_string(r);
    }
  }
  return silent.empty() ? "" : silent + " stopped answering";
}

} // namespace detail
} // namespace train
} // namespace fcnlab
