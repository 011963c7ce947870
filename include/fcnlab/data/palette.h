#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace fcnlab {
namespace data {

/// The label value of pixels that no loss or metric counts (VOC's object
/// borders).
constexpr int64_t kIgnoreLabel = 255;

struct Rgb {
  uint8_t r = 0;
  uint8_t g = 0;
  uint8_t b = 0;
  bool operator==(const Rgb& other) const {
    return r == other.r && g == other.g && b == other.b;
  }
};

/// A color for each of the 256 label values.
using Palette = std::array<Rgb, 256>;

/// PASCAL VOC's palette: for label i, bit k of each 3-bit group j of i sets
/// bit 7-j of R (k=0), G (k=1) or B (k=2). 0 is black, 1 (128,0,0), 255
/// (224,224,192).
Palette voc_palette();

/// A palette whose first entries are `colors` and the rest VOC's.
Palette palette_from_colors(const std::vector<Rgb>& colors);

/// background, aeroplane, ..., tvmonitor (21 names).
std::vector<std::string> voc_class_names();

/// Reads a class-names file: line i names class i-1; reading stops at the
/// first blank line (DIGITS' pascal-voc-classes.txt ends with prose). Throws
/// c10::Error naming the file when it is missing or names no class.
std::vector<std::string> read_class_names(const std::string& path);

/// Writes one name per line, atomically.
void write_class_names(
    const std::vector<std::string>& names,
    const std::string& path);

/// Reads a colormap file (DIGITS "colormap from text file"): one "R G B"
/// line per class, in class order; blank lines and '#' comments skipped.
/// Throws c10::Error naming the file and line of a malformed entry.
std::vector<Rgb> read_colormap(const std::string& path);

/// Writes a palette's first `count` entries as "R G B" lines, atomically.
void write_colormap(
    const Palette& palette,
    size_t count,
    const std::string& path);

} // namespace data
} // namespace fcnlab
