// The tests' main: the allocator settings of the CLI (large blocks kept for
// reuse), which also spare the suite most of its page faults, and a crash
// report that names the test and the faulting code before the process dies.
#include <fcnlab/util/memory.h>

#include "crash_report.h"

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  fcnlab::reuse_freed_memory();
  fcnlab::testing::install_crash_report();
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
