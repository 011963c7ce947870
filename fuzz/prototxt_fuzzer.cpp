// parse_prototxt: text format, V1 upgrade, layer checks, channel inference;
// what it accepts must describe itself again and summarize.
#include "fuzz_input.h"

#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/summary.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = fcnlab::fuzz::input_bytes(data, size);
  return fcnlab::fuzz::refuse_cleanly([&] {
    const auto spec = fcnlab::caffe::parse_prototxt(text, "fuzz.prototxt");
    fcnlab::models::parameter_count(spec);
    fcnlab::caffe::parse_prototxt(
        fcnlab::caffe::net_prototxt(spec), "fuzz.prototxt (written back)");
    fcnlab::models::summarize(spec, 64, 48).to_string();
  });
}
