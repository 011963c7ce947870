// Caffe Datum values of an LMDB: raw and encoded pixels, as image and label.
#include "fuzz_input.h"

#include "../csrc/data/detail/datum.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = fcnlab::fuzz::input_bytes(data, size);
  fcnlab::fuzz::refuse_cleanly(
      [&] { fcnlab::data::detail::decode_datum(bytes, "fuzz[0]", false); });
  return fcnlab::fuzz::refuse_cleanly(
      [&] { fcnlab::data::detail::decode_datum(bytes, "fuzz[0]", true); });
}
