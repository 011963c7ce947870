// load_model: the tensor file (tar), its header and the network it
// describes.
#include "fuzz_input.h"

#include <fcnlab/io/model_file.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = fcnlab::fuzz::input_file(data, size, ".pt");
  return fcnlab::fuzz::refuse_cleanly([&] { fcnlab::io::load_model(path); });
}
