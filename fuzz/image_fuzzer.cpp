// decode_image: JPEG/PNG/BMP/... through OpenCV, header size limits.
#include "fuzz_input.h"

#include <fcnlab/data/image_io.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = fcnlab::fuzz::input_bytes(data, size);
  return fcnlab::fuzz::refuse_cleanly([&] {
    fcnlab::data::decode_image(
        bytes, "fuzz.jpg", fcnlab::data::ChannelConversion::kBgr);
  });
}
