// read_sbd_label: SBD's cls/*.mat (MATLAB v5) through libmatio.
#include "fuzz_input.h"

#include <fcnlab/data/sbd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fcnlab::fuzz::input_file(data, size, ".mat");
  return fcnlab::fuzz::refuse_cleanly(
      [&] { fcnlab::data::read_sbd_label(path); });
}
