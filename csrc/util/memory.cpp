#include <fcnlab/util/memory.h>

#include <cstdlib> // defines __GLIBC__ with the C library

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace fcnlab {

bool reuse_freed_memory() {
#if defined(__GLIBC__)
  // No allocation from mmap (so none is unmapped when freed), and free
  // memory at the top of the heap goes back to the system only beyond 1 GiB.
  const bool heap_only = mallopt(M_MMAP_MAX, 0) == 1;
  const bool kept = mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
  return heap_only && kept;
#else
  return false;
#endif
}

} // namespace fcnlab
