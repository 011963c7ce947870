#pragma once

#include <torch/csrc/distributed/c10d/Store.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fcnlab {
namespace train {
namespace detail {

/// Each rank of a job counts up a key of the job's store every `period`
/// on its own thread and connection, so that when a collective fails the
/// survivors can tell which ranks are gone rather than guess.
class Heartbeat {
 public:
  Heartbeat(
      c10::intrusive_ptr<c10d::Store> store,
      int64_t rank,
      int64_t world_size,
      std::chrono::milliseconds period = std::chrono::milliseconds(300));
  ~Heartbeat();

  /// Watches the other ranks' counters for a few periods. Returns the
  /// ranks whose counter did not move, in words ("rank 1"), or says that
  /// the store itself is unreachable; "" when every rank is alive.
  std::string silent_ranks();

 private:
  /// What counters() gives for a rank that has not counted yet, and for
  /// every rank when the store itself does not answer.
  static constexpr int64_t kNotCountedYet = -1;
  static constexpr int64_t kStoreGone = -2;

  void beat();
  /// Every rank's counter, or one of the two codes above.
  std::vector<int64_t> counters();

  c10::intrusive_ptr<c10d::Store> store_;
  int64_t rank_;
  int64_t world_size_;
  std::chrono::milliseconds period_;
  std::mutex mutex_; ///< the store connection and stopping_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace detail
} // namespace train
} // namespace fcnlab
