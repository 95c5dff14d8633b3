#include "core/internal/allocator.hpp"

#include <cstdlib>
#include <mutex>

namespace interproc::allocator {

void keepFreedHeap() {
#ifdef __GLIBC__
  static std::once_flag once;
  std::call_once(once, [] {
    // volatile: the compiler may not drop a malloc/free pair whose result is unused.
    void* volatile block = std::malloc(size_t(16) << 20);
    std::free(block);
  });
#endif
}

}  // namespace interproc::allocator
