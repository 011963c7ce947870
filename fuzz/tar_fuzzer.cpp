// The tar reader of prepare-voc: entries, path checks and contents.
#include "fuzz_input.h"

#include "../csrc/util/detail/tar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = fcnlab::fuzz::input_file(data, size, ".tar");
  return fcnlab::fuzz::refuse_cleanly([&] {
    fcnlab::util::detail::TarReader reader(path);
    while (reader.next()) {
      if (reader.is_file()) {
        reader.read();
      }
    }
  });
}
