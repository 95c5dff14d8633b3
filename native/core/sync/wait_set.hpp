// Sleeping on several shared futex words at once (futex_waitv, Linux 5.16+), with a process-local
// cancel word so another thread can end the sleep without a lost-wake race: the canceller's word is
// one of the words slept on, so a cancel that comes before the sleep makes the sleep return at once.
// Also the acquire loop every synchronisation primitive shares (try, prepare to sleep, sleep, retry).
#pragma once

#include <linux/futex.h>

#include <atomic>
#include <cstdint>
#include <optional>

#include "core/internal/contract.hpp"
#include "core/internal/result.hpp"

namespace interproc {

// Absolute CLOCK_MONOTONIC time in ns; nullopt = no deadline.
using Deadline = std::optional<int64_t>;
int64_t monotonicNs();
// Deadline from a relative timeout in ns (nullopt = forever, <= 0 = now).
Deadline deadlineAfter(std::optional<int64_t> timeout_ns);

class Canceller {
 public:
  void cancel();
  bool cancelled() const { return flag_.load(std::memory_order_acquire) != 0; }
  const std::atomic<uint32_t>* word() const { return &flag_; }

 private:
  std::atomic<uint32_t> flag_{0};
};

enum class Wake { Ready, TimedOut, Cancelled };

class WaitSet {
 public:
  static constexpr int kMax = 120;  // futex_waitv takes at most 128 words; one is the canceller's
  // Sleep while *word == expected. Returns false when the set is full.
  bool add(const void* word, uint32_t expected);
  int size() const { return n_; }
  void clear() { n_ = 0; }
  // Sleeps until a word differs from its expected value, one is woken, the deadline passes or c is
  // cancelled. Ready covers all but the last two (the caller re-reads the state anyway).
  Result<Wake> wait(Deadline deadline, const Canceller* c) const;

 private:
  futex_waitv w_[kMax + 1];
  int n_ = 0;
};

// The outcome of an acquire, shared by every primitive and returned to JS as a number: Acquired,
// OwnerDead, Busy, TimedOut, Broken, NotRecoverable, Deadlock, Cancelled, OwnerDeadNoLock, defined
// (with what each means) in native/contract/contract.json.
using Outcome = contract::SyncOutcome;

// One acquisition attempt of a primitive, split so the sleeping part can run on another thread:
// attempt() and prepare()/afterWait()/giveUp() run on the acquiring thread (robust words join its
// list), only WaitSet::wait (a system call, no memory access) may run elsewhere.
class AcquireOp {
 public:
  virtual ~AcquireOp() = default;
  // Tries once. `waited` is true after a sleep (keeps the waiters bit for other sleepers).
  virtual Outcome attempt(bool waited) = 0;
  // Fills ws with the words to sleep on (setting waiters bits); false means retry attempt() now.
  virtual bool prepare(WaitSet& ws) = 0;
  // After each sleep, whatever its result (undoes prepare's sleeper counts).
  virtual void afterWait() {}
  // Giving up (timeout, cancel, error): undo partial state, pass on a wake-up this sleeper may have taken.
  virtual void giveUp() {}
};

// For a thread whose sleep nothing else can interrupt (a worker thread that worker.terminate() must
// be able to end): the sleep is cut into slices of sliceNs, and stop(ctx) is asked between them.
struct StopPoll {
  int64_t sliceNs;
  bool (*stop)(void* ctx);
  void* ctx;
};

// The blocking loop on the calling thread: Busy never comes back; Deadlock does (it would hang).
// With `poll`, a stop() that returns true ends the wait as Terminating (after giveUp()).
Result<Outcome> acquireBlocking(AcquireOp& op, Deadline deadline, const Canceller* c = nullptr,
                                const StopPoll* poll = nullptr);

}  // namespace interproc
