// The tests' main: the allocator settings of the CLI (large blocks kept for
// reuse), which also spare the suite most of its page faults.
#include <fcnlab/util/memory.h>

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  fcnlab::reuse_freed_memory();
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
