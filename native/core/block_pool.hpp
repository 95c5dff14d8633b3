// Recycled memory blocks for large received messages. Fresh memory costs a page fault for every
// 4 KiB on first touch, and glibc hands freed blocks at the top of its heap back to the kernel, so
// a stream of 64 KiB owned copies otherwise faults on every page of every message (measured: 1.4 vs
// 4-5 GB/s). A block given back here stays mapped and is reused by the next large message.
#pragma once

#include <cstddef>

namespace interproc::block_pool {

// Blocks come in power-of-two size classes from kMinBlock up to kMaxBlock; larger requests are
// plain allocations that are never cached.
constexpr size_t kMinBlock = 16 * 1024;
constexpr size_t kMaxBlock = size_t(64) << 20;
// Bytes the pool keeps for reuse at most (per process); blocks beyond it are freed.
constexpr size_t kMaxCached = size_t(64) << 20;

// A block of at least `size` bytes, or nullptr when out of memory. Thread-safe.
void* take(size_t size);
// Gives back a block from take(size) (the same size). Thread-safe.
void give(void* block, size_t size);
// Bytes currently cached for reuse (for tests).
size_t cachedBytes();

}  // namespace interproc::block_pool
