// A robust word padded to 64 bytes (a cache line): one per thread that takes part in a Barrier
// (its parties), an RwLock (its readers) or a robust Semaphore (its holders). The kernel marks the
// slot of a thread that dies holding it and wakes whoever sleeps on it; what the slot means (and
// what `w.aux` counts) is the object's. Also the steps every slot user repeats: finding the
// calling thread's slot, giving one back, and watching a held one before a sleep.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/sync/robust_list.hpp"
#include "core/sync/wait_set.hpp"

namespace interproc {

struct RobustSlot {
  RobustWord w;  // aux: per object (RwLock: read recursion; Semaphore: permits held)
  uint8_t spare[24];
};
static_assert(sizeof(RobustSlot) == 64 && alignof(RobustSlot) == 8);
static_assert(offsetof(RobustSlot, w) == 0 && offsetof(RobustSlot, spare) == sizeof(RobustWord));

// What one robust word says now, for inspection (interproc inspect): loads only, never a write, so
// it works on a read-only (private) mapping. `aux` is per object (RwLock: read recursion; Semaphore:
// permits held).
struct WordView {
  uint32_t tid;    // the holder's thread id; 0 = none
  bool ownerDied;  // FUTEX_OWNER_DIED: the last holder died (or, for a Barrier party, left) holding it
  bool waiters;    // FUTEX_WAITERS: a thread sleeps on it
  uint32_t aux;
};

inline WordView viewOf(const RobustWord& w) {
  const uint32_t v = w.word.load(std::memory_order_relaxed);
  return {robust::owner(v), (v & robust::kOwnerDied) != 0, (v & robust::kWaiters) != 0,
          std::atomic_ref<const uint32_t>(w.aux).load(std::memory_order_relaxed)};
}

// The address futex calls take for a shared word.
inline uint32_t* futexWord(std::atomic<uint32_t>* a) { return reinterpret_cast<uint32_t*>(a); }

namespace robust {

// The slot among slots[0, n) that thread `tid` holds, or nullptr. (Only `tid` itself can have
// stored its id there, so a relaxed load is enough.)
inline RobustSlot* slotOf(RobustSlot* slots, size_t n, uint32_t tid) {
  for (size_t i = 0; i < n; ++i) {
    if (owner(slots[i].w.word.load(std::memory_order_relaxed)) == tid) return &slots[i];
  }
  return nullptr;
}

// Gives back a slot this thread holds (its word becomes 0) and wakes every sleeper on it, if any.
void releaseSlot(RobustSlot* s);

// Before a sleep on `word`, last seen as `w` (held by another thread, not owner-dead): sets the
// waiters bit so its release wakes us, and adds the word to `ws`. False when the word changed
// meanwhile: try again instead of sleeping.
bool watch(std::atomic<uint32_t>& word, uint32_t w, WaitSet& ws);

}  // namespace robust
}  // namespace interproc
