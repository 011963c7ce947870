// decode_label: paletted/grayscale PNG through libpng, color labels mapped
// through a colormap.
#include "fuzz_input.h"

#include <fcnlab/data/label_io.h>
#include <fcnlab/data/palette.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // VOC's first 21 colors, as a DIGITS colormap file lists them.
  static const auto palette = fcnlab::data::voc_palette();
  static const std::vector<fcnlab::data::Rgb> colormap(
      palette.begin(), palette.begin() + 21);
  const auto bytes = fcnlab::fuzz::input_bytes(data, size);
  fcnlab::fuzz::refuse_cleanly(
      [&] { fcnlab::data::decode_label(bytes, "fuzz.png"); });
  return fcnlab::fuzz::refuse_cleanly(
      [&] { fcnlab::data::decode_label(bytes, "fuzz.png", &colormap); });
}
