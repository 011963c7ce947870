#include "builtin_hooks.h"

namespace fcnlab {
namespace train {
namespace detail {
namespace {

class PeriodicCheckpointer : public TrainerHook {
 public:
  PeriodicCheckpointer(
      Checkpointer& checkpointer,
      int64_t every,
      int64_t epochs)
      : checkpointer_(checkpointer), every_(every), epochs_(epochs) {}

  bool after_epoch(Trainer&, EpochInfo& info) override {
    if (info.epoch % every_ == 0 || info.epoch == epochs_) {
      checkpointer_.write();
    }
    return true;
  }

 private:
  Checkpointer& checkpointer_;
  int64_t every_;
  int64_t epochs_;
};

} // namespace

std::shared_ptr<TrainerHook> periodic_checkpointer(
    Checkpointer& checkpointer,
    int64_t every,
    int64_t epochs) {
  return std::make_shared<PeriodicCheckpointer>(checkpointer, every, epochs);
}

} // namespace detail
} // namespace train
} // namespace fcnlab
