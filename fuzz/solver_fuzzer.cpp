// parse_solver_file: text format, the legacy enum, policies and their
// fields, paths; what it accepts must write itself again and read back.
#include "fuzz_input.h"

#include <fcnlab/train/solver_file.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = fcnlab::fuzz::input_bytes(data, size);
  return fcnlab::fuzz::refuse_cleanly([&] {
    const auto file = fcnlab::train::parse_solver_file(text, "solver.prototxt");
    fcnlab::train::with_solver_file({}, file, 7);
    fcnlab::train::SolverRun run;
    run.max_iter = file.max_iter;
    fcnlab::train::parse_solver_file(
        fcnlab::train::solver_prototxt(file.solver, run),
        "solver.prototxt (written back)");
  });
}
