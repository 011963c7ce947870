// Training snapshots: read, then restored into the network that wrote the
// seeds, as Trainer::resume does.
#include "fuzz_input.h"
#include "tiny_net.h"

#include "../csrc/train/detail/snapshot.h"

#include <fcnlab/caffe/prototxt.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fcnlab;
  static models::FcnNet model(
      caffe::parse_prototxt(fuzz::kTinyNet, "tiny.prototxt"));
  static train::Solver solver(train::trainable_parameters(model), {});
  const auto path = fuzz::input_file(data, size, ".pt");
  return fuzz::refuse_cleanly([&] {
    auto snapshot = train::detail::read_snapshot(path);
    train::detail::restore_snapshot(snapshot, model, solver);
  });
}
