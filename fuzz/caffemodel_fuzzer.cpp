// read_caffemodel: the protobuf wire walk, V1/V2 layers, blob shapes.
#include "fuzz_input.h"

#include <fcnlab/caffe/caffemodel.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = fcnlab::fuzz::input_file(data, size, ".caffemodel");
  return fcnlab::fuzz::refuse_cleanly(
      [&] { fcnlab::caffe::read_caffemodel(path); });
}
