#include "core/sync/exclusive_word.hpp"

#include "core/sync/robust_slot.hpp"

namespace interproc::exclusive {

Outcome tryTake(RobustWord& word, SyncHeader& header, bool waited) {
  const uint32_t tid = robust::selfTid();
  uint32_t w = word.word.load(std::memory_order_relaxed);
  for (;;) {
    if (w == 0) {
      // After a sleep, keep the waiters bit: other sleepers may remain behind us.
      if (robust::take(&word, 0, tid | (waited ? robust::kWaiters : 0))) return Outcome::Acquired;
    } else if (w == robust::kNotRecoverable) {
      return Outcome::NotRecoverable;
    } else if (robust::ownerDied(w)) {
      if (robust::take(&word, w, tid | (w & robust::kWaiters))) {
        header.state.store(1, std::memory_order_relaxed);
        return Outcome::OwnerDead;
      }
    } else if (robust::owner(w) == tid) {
      return Outcome::Deadlock;
    } else {
      return Outcome::Busy;
    }
    w = word.word.load(std::memory_order_relaxed);
  }
}

bool prepareSleep(RobustWord& word, WaitSet& ws) {
  auto& atom = word.word;
  uint32_t w = atom.load(std::memory_order_relaxed);
  if (w == 0 || w == robust::kNotRecoverable || robust::ownerDied(w)) return false;
  return robust::watch(atom, w, ws);
}

}  // namespace interproc::exclusive
