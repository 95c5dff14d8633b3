// C++ tests of the block pool for large received messages: a block given back is handed out again
// (for any size of its class), the pool never holds more than its cap, and huge blocks are not kept.
#include "../core/block_pool.hpp"

#include <cstring>
#include <vector>

#include "check.hpp"

using namespace interproc;

TEST_CASE("a block given back is reused for the next request of its size class") {
  void* a = block_pool::take(65536);
  CHECK(a != nullptr);
  std::memset(a, 1, 65536);  // the whole class size is usable
  size_t before = block_pool::cachedBytes();
  block_pool::give(a, 65536);
  CHECK(block_pool::cachedBytes() == before + 65536);
  void* b = block_pool::take(40000);  // same class (32 KiB < 40000 <= 64 KiB)
  CHECK(b == a);
  CHECK(block_pool::cachedBytes() == before);
  void* c = block_pool::take(40000);  // the pool has none left of that class: a fresh block
  CHECK(c != nullptr && c != a);
  block_pool::give(b, 40000);
  block_pool::give(c, 40000);
}

TEST_CASE("small requests share the smallest class; huge ones are never cached") {
  void* s = block_pool::take(10);
  CHECK(s != nullptr);
  block_pool::give(s, 10);
  CHECK(block_pool::take(block_pool::kMinBlock) == s);
  block_pool::give(s, block_pool::kMinBlock);
  size_t before = block_pool::cachedBytes();
  void* huge = block_pool::take(block_pool::kMaxBlock + 1);
  CHECK(huge != nullptr);
  block_pool::give(huge, block_pool::kMaxBlock + 1);
  CHECK(block_pool::cachedBytes() == before);
}

TEST_CASE("the pool keeps at most kMaxCached bytes") {
  std::vector<void*> blocks;
  const size_t size = size_t(4) << 20;
  for (size_t i = 0; i < block_pool::kMaxCached / size + 4; ++i) blocks.push_back(block_pool::take(size));
  for (void* b : blocks) block_pool::give(b, size);
  CHECK(block_pool::cachedBytes() <= block_pool::kMaxCached);
  CHECK(block_pool::cachedBytes() >= block_pool::kMaxCached - size);
}

TEST_MAIN()
