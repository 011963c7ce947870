#include "builtin_hooks.h"

#include <fcnlab/train/trainer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <unistd.h>

namespace fcnlab {
namespace train {
namespace detail {
namespace {

using Clock = std::chrono::steady_clock;

std::string duration_text(double seconds) {
  const auto total = static_cast<long long>(std::max(0.0, seconds));
  char text[32];
  if (total >= 3600) {
    std::snprintf(
        text, sizeof(text), "%lldh%02lldm", total / 3600, (total / 60) % 60);
  } else {
    std::snprintf(text, sizeof(text), "%lldm%02llds", total / 60, total % 60);
  }
  return text;
}

class ProgressPrinter : public TrainerHook {
 public:
  ProgressPrinter(
      int64_t epochs,
      int64_t total_updates,
      int64_t images_per_update,
      double seconds)
      : epochs_(epochs),
        total_updates_(total_updates),
        images_per_update_(images_per_update),
        // A terminal gets one line rewritten twice a second; logs, CI and
        // notebooks a plain line every `seconds`.
        terminal_(::isatty(::fileno(stderr)) != 0),
        interval_(terminal_ ? 0.5 : seconds) {}

  void before_train(Trainer&) override {
    start_ = Clock::now();
    last_print_ = -1e300;
  }

  bool after_step(Trainer&, const IterationInfo& info) override {
    const double elapsed =
        std::chrono::duration<double>(Clock::now() - start_).count();
    if (elapsed - last_print_ < interval_ && info.iteration != total_updates_) {
      return true;
    }
    last_print_ = elapsed;
    const double remaining = double(total_updates_ - info.iteration) *
        images_per_update_ / std::max(info.images_per_second, 1e-9);
    std::fprintf(
        stderr,
        "%strain: epoch %lld/%lld  iter %lld/%lld  loss %.4f  acc %.3f  "
        "lr %.2e  %.2f img/s  ETA %s%s",
        terminal_ ? "\r" : "",
        static_cast<long long>(info.epoch),
        static_cast<long long>(epochs_),
        static_cast<long long>(info.iteration),
        static_cast<long long>(total_updates_),
        info.loss,
        info.accuracy,
        info.learning_rate,
        info.images_per_second,
        duration_text(remaining).c_str(),
        terminal_ ? "   " : "\n");
    return true;
  }

  bool after_epoch(Trainer&, EpochInfo& info) override {
    std::fprintf(
        stderr,
        "%sepoch %lld: train loss %.4f acc %.3f | val loss %.4f acc %.3f mean IU %.3f "
        "(%.1fs)\n",
        terminal_ ? "\n" : "",
        static_cast<long long>(info.epoch),
        info.train_loss,
        info.train_accuracy,
        info.val_loss,
        info.val_pixel_accuracy,
        info.val_mean_iu,
        info.seconds);
    return true;
  }

  void after_train(Trainer& trainer, bool stopped) override {
    if (stopped) {
      std::fprintf(
          stderr,
          "%strain: stopped at iteration %lld\n",
          terminal_ ? "\n" : "",
          static_cast<long long>(trainer.iteration()));
    }
  }

 private:
  int64_t epochs_;
  int64_t total_updates_;
  int64_t images_per_update_;
  bool terminal_;
  double interval_;
  Clock::time_point start_;
  double last_print_ = -1e300;
};

} // namespace

std::shared_ptr<TrainerHook> progress_printer(
    int64_t epochs,
    int64_t total_updates,
    int64_t images_per_update,
    double seconds) {
  return std::make_shared<ProgressPrinter>(
      epochs, total_updates, images_per_update, seconds);
}

} // namespace detail
} // namespace train
} // namespace fcnlab
