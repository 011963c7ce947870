#include "augment_flags.h"

#include "commands.h"

namespace fcnlab {
namespace tools {

void AugmentFlags::add_to(CLI::App* command) {
  command->add_flag("--flip", flip, "augment: mirror left-right half the time");
  command
      ->add_option(
          "--scale", scale, "augment: resize by a factor drawn from MIN MAX")
      ->expected(2);
  command
      ->add_option(
          "--rotate", rotate, "augment: rotate by up to this many degrees")
      ->check(CLI::Range(0.0, 180.0));
  command->add_flag(
      "--quarter-turns",
      quarter_turns,
      "augment: turn by 0/90/180/270 degrees");
  command->add_option(
      "--crop",
      crop,
      "augment: a random HxW window (smaller images padded, labels with 255)");
  command
      ->add_option("--hue", hue, "augment: hue shift up to this many degrees")
      ->check(CLI::Range(0.0, 180.0));
  command
      ->add_option(
          "--saturation", saturation, "augment: saturation x (1 +- this)")
      ->check(CLI::Range(0.0, 1.0));
  command
      ->add_option(
          "--brightness", brightness, "augment: brightness x (1 +- this)")
      ->check(CLI::Range(0.0, 1.0));
  command->add_option("--noise", noise, "augment: Gaussian noise of this std")
      ->check(non_negative_number());
}

data::AugmentOptions AugmentFlags::options() const {
  auto options = data::AugmentOptions()
                     .flip(flip)
                     .rotation(rotate)
                     .quarter_turns(quarter_turns)
                     .hue(hue)
                     .saturation(saturation)
                     .brightness(brightness)
                     .noise(noise);
  if (!scale.empty()) {
    if (!(scale[0] > 0 && scale[0] <= scale[1])) {
      throw CLI::ValidationError(
          "--scale",
          "needs 0 < MIN <= MAX, got " + std::to_string(scale[0]) + " " +
              std::to_string(scale[1]));
    }
    options.scale_min(scale[0]).scale_max(scale[1]);
  }
  if (!crop.empty()) {
    std::pair<int64_t, int64_t> size{0, 0};
    try {
      size = parse_size(crop);
    } catch (const CLI::ValidationError&) {
    }
    if (size.first <= 0 || size.second <= 0) {
      throw CLI::ValidationError(
          "--crop",
          "expected HEIGHTxWIDTH such as 224x224, got '" + crop + "'");
    }
    options.crop_height(size.first).crop_width(size.second);
  }
  return options;
}

} // namespace tools
} // namespace fcnlab
