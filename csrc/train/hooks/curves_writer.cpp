#include "builtin_hooks.h"

#include "../detail/curves.h"

#include <fcnlab/train/trainer.h>

#include <filesystem>

namespace fcnlab {
namespace train {
namespace detail {
namespace {

class CurvesWriter : public TrainerHook {
 public:
  CurvesWriter(std::string dir, std::vector<std::string> class_names)
      : path_((std::filesystem::path(dir) / "curves.png").string()),
        class_names_(std::move(class_names)) {}

  bool after_epoch(Trainer& trainer, EpochInfo&) override {
    write_curves_png(trainer.history(), class_names_, path_);
    return true;
  }

 private:
  std::string path_;
  std::vector<std::string> class_names_;
};

} // namespace

std::shared_ptr<TrainerHook> curves_writer(
    std::string dir,
    std::vector<std::string> class_names) {
  return std::make_shared<CurvesWriter>(std::move(dir), std::move(class_names));
}

} // namespace detail
} // namespace train
} // namespace fcnlab
