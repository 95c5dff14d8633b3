#include "core/internal/allocator.hpp"

#include <cstdlib>

namespace interproc::allocator {

void keepFreedHeap() {
#ifdef __GLIBC__
  // A function-local static runs once (thread-safe), without pthread_once (GLIBC_2.34).
  static const bool done = [] {
    // volatile: the compiler may not drop a malloc/free pair whose result is unused.
    void* volatile block = std::malloc(size_t(16) << 20);
    std::free(block);
    return true;
  }();
  (void)done;
#endif
}

}  // namespace interproc::allocator
