#include "core/mailbox/death_word.hpp"

#include <cerrno>
#include <climits>

#include "core/shm/futex.hpp"

namespace interproc::death_word {

namespace {
uint32_t* raw(RobustWord* w) { return reinterpret_cast<uint32_t*>(&w->word); }
}  // namespace

Status hold(RobustWord* w) {
  if (Status s = robust::check(); !s.ok()) {
    w->word.store(0);
    return s;
  }
  const uint32_t tid = robust::selfTid();
  for (int attempt = 0; attempt < 1000; ++attempt) {
    uint32_t v = w->word.load();
    if (robust::owner(v) == tid) return Ok{};
    if (robust::take(w, v, tid)) {
      if (v & robust::kWaiters) futex::wake(raw(w), INT32_MAX);  // watchers of the old incarnation
      return Ok{};
    }
  }
  return SysError{EAGAIN, "death word"};  // a peer rewriting the word without pause
}

void release(RobustWord* w) {
  if (robust::owner(w->word.load()) != robust::selfTid()) {
    robust::unlist(w);  // rewritten by someone (or released through another mapping of it): off the list
    return;
  }
  uint32_t old = robust::release(w, 0);
  if (old & robust::kWaiters) futex::wake(raw(w), INT32_MAX);
}

WatchEnd sleepWhileHeld(RobustWord* w, uint32_t tid, const uint32_t* stop) {
  for (;;) {
    if (__atomic_load_n(stop, __ATOMIC_ACQUIRE) != 0) return WatchEnd::Stopped;
    uint32_t v = w->word.load();
    if (robust::ownerDied(v) || robust::owner(v) != tid) {
      futex::wake(raw(w), INT32_MAX);  // pass it on: the kernel woke one sleeper at most
      return WatchEnd::Changed;
    }
    if (!(v & robust::kWaiters)) {
      if (!w->word.compare_exchange_strong(v, v | robust::kWaiters)) continue;
      v |= robust::kWaiters;
    }
    auto r = futex::waitOrCancel(raw(w), v, stop, std::nullopt);
    if (!r) {
      // No futex_waitv (a kernel before 5.16) or a fault: sleep on the word alone, in short slices
      // so that a stop is seen.
      (void)futex::wait(raw(w), v, 20'000'000);
    }
  }
}

}  // namespace interproc::death_word
