#include <fcnlab/data/palette.h>

#include <fcnlab/util/atomic_file.h>

#include <c10/util/Exception.h>

#include <sstream>

namespace fcnlab {
namespace data {

Palette voc_palette() {
  Palette palette;
  for (int label = 0; label < 256; ++label) {
    Rgb color;
    for (int group = 0, bits = label; bits; ++group, bits >>= 3) {
      color.r |= static_cast<uint8_t>(((bits >> 0) & 1) << (7 - group));
      color.g |= static_cast<uint8_t>(((bits >> 1) & 1) << (7 - group));
      color.b |= static_cast<uint8_t>(((bits >> 2) & 1) << (7 - group));
    }
    palette[static_cast<size_t>(label)] = color;
  }
  return palette;
}

Palette palette_from_colors(const std::vector<Rgb>& colors) {
  TORCH_CHECK_VALUE(
      colors.size() <= 256, "a palette holds 256 colors, got ", colors.size());
  Palette palette = voc_palette();
  std::copy(colors.begin(), colors.end(), palette.begin());
  return palette;
}

std::vector<std::string> voc_class_names() {
  return {"background", "aeroplane",   "bicycle", "bird",  "boat",
          "bottle",     "bus",         "car",     "cat",   "chair",
          "cow",        "diningtable", "dog",     "horse", "motorbike",
          "person",     "pottedplant", "sheep",   "sofa",  "train",
          "tvmonitor"};
}

std::vector<std::string> read_class_names(const std::string& path) {
  std::istringstream lines(util::read_file(path, "class names"));
  std::vector<std::string> names;
  std::string line;
  while (std::getline(lines, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
      line.pop_back();
    }
    if (line.empty()) {
      break;
    }
    names.push_back(line);
  }
  TORCH_CHECK(
      !names.empty(),
      "class names: ",
      path,
      " names no class on its first line");
  return names;
}

void write_class_names(
    const std::vector<std::string>& names,
    const std::string& path) {
  std::string text;
  for (const auto& name : names) {
    text += name + "\n";
  }
  util::write_file_atomically(path, text);
}

std::vector<Rgb> read_colormap(const std::string& path) {
  std::istringstream lines(util::read_file(path, "colormap"));
  std::vector<Rgb> colors;
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') {
      continue;
    }
    std::istringstream fields(line);
    int r = -1, g = -1, b = -1;
    std::string rest;
    fields >> r >> g >> b;
    const bool parsed = !fields.fail() && !(fields >> rest);
    TORCH_CHECK(
        parsed && r >= 0 && r < 256 && g >= 0 && g < 256 && b >= 0 && b < 256,
        "colormap: ",
        path,
        " line ",
        number,
        " is '",
        line,
        "'; expected three values 0..255 (R G B)");
    colors.push_back(
        {static_cast<uint8_t>(r),
         static_cast<uint8_t>(g),
         static_cast<uint8_t>(b)});
  }
  TORCH_CHECK(!colors.empty(), "colormap: ", path, " holds no colors");
  return colors;
}

void write_colormap(
    const Palette& palette,
    size_t count,
    const std::string& path) {
  std::string text;
  for (size_t i = 0; i < count && i < palette.size(); ++i) {
    text += std::to_string(palette[i].r) + " " + std::to_string(palette[i].g) +
        " " + std::to_string(palette[i].b) + "\n";
  }
  util::write_file_atomically(path, text);
}

} // namespace data
} // namespace fcnlab
