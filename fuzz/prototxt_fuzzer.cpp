// parse_prototxt: text format, V0/V1 upgrades, Python data layers and their
// param_str, the loss choice, layer checks, channel inference; what it
// accepts must describe itself again, summarize (at 64x48 and at its
// declared size) and convolutionalize or be refused by name.
#include "fuzz_input.h"

#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/convolutionalize.h>
#include <fcnlab/models/summary.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = fcnlab::fuzz::input_bytes(data, size);
  const auto read = [&](const fcnlab::caffe::PrototxtOptions& options) {
    const auto spec =
        fcnlab::caffe::parse_prototxt(text, "fuzz.prototxt", options);
    fcnlab::models::parameter_count(spec);
    fcnlab::caffe::parse_prototxt(
        fcnlab::caffe::net_prototxt(spec), "fuzz.prototxt (written back)");
    fcnlab::models::summarize(spec, 64, 48).to_string();
  };
  // What reads may also convolutionalize (or be refused by name).
  const auto convolutionalize = [&] {
    const auto spec = fcnlab::caffe::parse_prototxt(text, "fuzz.prototxt");
    const auto [height, width] = fcnlab::models::default_input_size(spec);
    fcnlab::models::summarize(spec, height, width).to_string();
    fcnlab::models::validate(fcnlab::models::convolutionalize(spec));
  };
  fcnlab::fuzz::refuse_cleanly(convolutionalize);
  fcnlab::fuzz::refuse_cleanly([&] { read({}); });
  // Nets with several losses go further once one is chosen.
  return fcnlab::fuzz::refuse_cleanly([&] { read({"loss"}); });
}
