#include <fcnlab/util/memory.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace fcnlab {
namespace {

TEST(MemoryTest, LargeBlocksComeFromTheHeapAndStayForTheNext) {
#if !defined(__GLIBC__)
  GTEST_SKIP() << "reuse_freed_memory() needs glibc's mallopt";
#else
  ASSERT_TRUE(reuse_freed_memory());
  // 64 MB: glibc maps anything over its 32 MB ceiling on its own.
  constexpr size_t kBytes = size_t{64} << 20;
  const size_t mapped_before = mallinfo2().hblkhd;
  char* block = static_cast<char*>(std::malloc(kBytes));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBytes);
  EXPECT_EQ(mallinfo2().hblkhd, mapped_before) << "the block was mmapped";
  std::free(block);
  // Freed, its pages stay with the process (kept below the trim threshold).
  EXPECT_GE(mallinfo2().fordblks, kBytes);
#endif
}

} // namespace
} // namespace fcnlab
