#include "core/sync/robust_slot.hpp"

#include <climits>

#include "core/shm/futex.hpp"

namespace interproc::robust {

void releaseSlot(RobustSlot* s) {
  uint32_t old = release(&s->w, 0);
  if (old & kWaiters) futex::wake(futexWord(&s->w.word), INT_MAX);
}

bool watch(std::atomic<uint32_t>& word, uint32_t w, WaitSet& ws) {
  if (!(w & kWaiters)) {
    if (!word.compare_exchange_strong(w, w | kWaiters)) return false;
    w |= kWaiters;
  }
  ws.add(&word, w);
  return true;
}

}  // namespace interproc::robust
