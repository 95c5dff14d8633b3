#include "core/mailbox/death_word.hpp"

#include <cerrno>
#include <climits>

#include "core/shm/futex.hpp"
#include "core/shm/truncation_guard.hpp"

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
  const uint32_t* cut = truncation::wordFor(w);  // the mapping's truncation mark: it ends every sleep
  int restless = 0;  // rounds in a row that did not sleep: a peer rewriting the word without pause
  for (;;) {
    uint32_t v = w->word.load();
    bool changed = robust::ownerDied(v) || robust::owner(v) != tid;
    if (changed || restless >= 64 || (cut != nullptr && __atomic_load_n(cut, __ATOMIC_ACQUIRE) != 0)) {
      // Pass it on (the kernel woke one sleeper at most), and let the caller read the slot: a word
      // rewritten without pause, or a truncated segment, is a "change" as a scribbler's value is.
      futex::wake(raw(w), INT32_MAX);
      return WatchEnd::Changed;
    }
    if (__atomic_load_n(stop, __ATOMIC_ACQUIRE) != 0) return WatchEnd::Stopped;
    if (!(v & robust::kWaiters)) {
      if (!w->word.compare_exchange_strong(v, v | robust::kWaiters)) {
        ++restless;
        continue;
      }
      v |= robust::kWaiters;
    }
    auto r = futex::waitOrCancel(raw(w), v, stop, std::nullopt);
    if (!r) {
      // No futex_waitv (a kernel before 5.16) or a fault: sleep on the word alone, in short slices
      // so that a stop is seen.
      (void)futex::wait(raw(w), v, 20'000'000);
      restless = 0;
    } else if (r.value() == futex::CancellableOutcome::NotEqual) {
      ++restless;
    } else {
      restless = 0;
    }
  }
}

}  // namespace interproc::death_word
