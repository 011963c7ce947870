#pragma once

#include <fcnlab/data/voc.h>

#include <torch/arg.h>

#include <cstdint>

namespace fcnlab {
namespace data {

/// Random transforms of a training sample, all off by default (DIGITS'
/// recipe has none). Geometric ones move image and label together (image
/// bilinear, label nearest, uncovered label pixels 255 = ignored); color
/// ones change the image only. Applied in this order: scale, rotation by a
/// small angle, quarter turns, flip, crop or pad, hue/saturation/brightness,
/// noise.
struct AugmentOptions {
  /// Whether any transform is on.
  bool enabled() const;

  /// Mirror left-right with probability 1/2.
  TORCH_ARG(bool, flip) = false;
  /// Resize by a factor drawn uniformly from [scale_min, scale_max].
  TORCH_ARG(double, scale_min) = 1.0;
  TORCH_ARG(double, scale_max) = 1.0;
  /// Rotate by an angle drawn uniformly from [-rotation, rotation] degrees.
  TORCH_ARG(double, rotation) = 0;
  /// Turn by 0, 90, 180 or 270 degrees, equally likely.
  TORCH_ARG(bool, quarter_turns) = false;
  /// A random crop_height x crop_width window; smaller images are padded
  /// first (image with its mean color, label with 255). 0: keep the size.
  TORCH_ARG(int64_t, crop_height) = 0;
  TORCH_ARG(int64_t, crop_width) = 0;
  /// Hue shift in degrees drawn from [-hue, hue]; saturation and brightness
  /// multiplied by 1 + a draw from [-saturation, saturation] and
  /// [-brightness, brightness].
  TORCH_ARG(double, hue) = 0;
  TORCH_ARG(double, saturation) = 0;
  TORCH_ARG(double, brightness) = 0;
  /// Standard deviation of Gaussian noise added to the image (0..255 scale).
  TORCH_ARG(double, noise) = 0;
};

/// Throws c10::ValueError naming the option and its value when a range makes
/// no sense: scale_min <= 0 or > scale_max, rotation outside [0, 180],
/// crop sizes negative or only one of them set, hue outside [0, 180],
/// saturation or brightness outside [0, 1], negative noise.
void check_augment_options(const AugmentOptions& options);

/// `example` (image 3 x H x W float BGR 0..255, label H x W int64)
/// transformed by `options` with draws from a generator seeded by `seed`:
/// the same seed gives the same result.
SegmentationExample augment(
    const SegmentationExample& example,
    const AugmentOptions& options,
    uint64_t seed);

/// The seed of one sample's transforms in an epoch: a mix of the run's seed,
/// the epoch and the sample's index, so that a resumed run draws the same.
uint64_t augment_seed(uint64_t seed, int64_t epoch, size_t index);

} // namespace data
} // namespace fcnlab
