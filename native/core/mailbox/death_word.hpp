// A member's death word: a kernel robust futex word in its slot (MemberSlot::death), held by the
// thread that joined. When that thread exits, SIGKILL included, the kernel marks the word owner-dead
// and wakes a sleeper on it while the exit *begins* (exit_mm -> the robust list), before the
// process's memory is torn down, which is what a pidfd waits for (7 ms for a Node process here). The
// pidfd stays as the backstop; this only makes the word come sooner. A clean leave releases it (0).
// Nothing read from the word is trusted beyond "it no longer names the holder": a peer may write any
// value into it, and a watcher then reports a change, which the reader checks against the slot.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/internal/result.hpp"
#include "core/sync/robust_list.hpp"

namespace interproc::death_word {

// Makes the calling thread the word's holder whatever it held before (the caller has just claimed the
// slot, so a previous value is a dead incarnation's). ENOTSUP when the thread has no robust list.
Status hold(RobustWord* w);

// Takes the word off the calling thread's list and clears it, waking every watcher. When the calling
// thread is not the holder (any more), only takes the entry off its list.
void release(RobustWord* w);

// The holder whose exit the word would report: its tid, 0 when nobody holds it or it died.
inline uint32_t holder(uint32_t v) { return robust::ownerDied(v) ? 0 : robust::owner(v); }

// How a watch ended: the word stopped naming `tid` (died, released or overwritten), or stop was set.
enum class WatchEnd { Changed, Stopped };

// Sleeps while *w names `tid` as its holder, until it does not or *stop (process-private) becomes
// non-zero (futex::cancelWait). Sets the word's waiters bit so the kernel's owner-death handling wakes
// a sleeper; a watcher that sees a change wakes all the others (the kernel wakes only one). Also
// returns Changed, so the caller looks at the slot, when the segment was truncated or when 64 rounds
// in a row found the word moving without sleeping (a peer rewriting it: no busy loop for anyone).
WatchEnd sleepWhileHeld(RobustWord* w, uint32_t tid, const uint32_t* stop);

}  // namespace interproc::death_word
