#include "block_pool.hpp"

#include <array>
#include <bit>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace interproc::block_pool {
namespace {

constexpr int kClasses = std::countr_zero(kMaxBlock) - std::countr_zero(kMinBlock) + 1;

struct Pool {
  std::mutex mutex;
  std::array<std::vector<void*>, kClasses> free;
  size_t cached = 0;
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: blocks may come back during process exit
  return *p;
}

// The size class of a request, or -1 when it is too large to cache.
int classOf(size_t size) {
  if (size > kMaxBlock) return -1;
  size_t s = size < kMinBlock ? kMinBlock : std::bit_ceil(size);
  return std::countr_zero(s) - std::countr_zero(kMinBlock);
}

size_t classSize(int c) { return kMinBlock << c; }

}  // namespace

void* take(size_t size) {
  int c = classOf(size);
  if (c < 0) return std::malloc(size == 0 ? 1 : size);
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    auto& list = p.free[c];
    if (!list.empty()) {
      void* b = list.back();
      list.pop_back();
      p.cached -= classSize(c);
      return b;
    }
  }
  return std::malloc(classSize(c));
}

void give(void* block, size_t size) {
  if (block == nullptr) return;
  int c = classOf(size);
  if (c >= 0) {
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.mutex);
    if (p.cached + classSize(c) <= kMaxCached) {
      p.free[c].push_back(block);
      p.cached += classSize(c);
      return;
    }
  }
  std::free(block);
}

size_t cachedBytes() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.cached;
}

}  // namespace interproc::block_pool
