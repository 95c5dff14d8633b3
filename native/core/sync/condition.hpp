// A process-shared condition variable: a sequence word that notify() bumps before waking. A waiter
// reads the sequence while it still holds the mutex, unlocks, and sleeps only while the sequence is
// unchanged, so a notify between its unlock and its sleep is never lost. Wake-ups can be spurious
// (a notify(1) may release more than one waiter, and a waiter may return with nothing to do): always
// wait in a loop that re-checks the predicate. The condition has no owner; a waiter that dies is
// simply gone, and a death of the mutex holder shows up as OwnerDead when the waiter re-locks.
//
// Layout (64 bytes, 8-aligned): SyncHeader | sequence u32 | sleepers u32 | spare.
#pragma once

#include <cstddef>

#include "core/internal/contract.hpp"
#include "core/sync/mutex.hpp"
#include "core/sync/sync_header.hpp"
#include "core/sync/wait_set.hpp"

namespace interproc {

class Condition {
 public:
  static constexpr size_t kSize = contract::CONDITION_BYTES;
  explicit Condition(void* mem) : m_(static_cast<Layout*>(mem)) {}
  static void init(void* mem);
  static HeaderCheck check(const void* mem) { return checkHeader(mem, SyncKind::Condition); }

  uint32_t sequence() const { return m_->seq.load(std::memory_order_acquire); }
  // Threads asleep in wait() now (a snapshot, for inspection).
  uint32_t sleepers() const { return m_->sleepers.load(std::memory_order_relaxed); }
  // Wakes up to n waiters (INT32_MAX: all); returns how many were woken.
  Result<int> notify(int n);

  // Unlocks m, sleeps until notified or the deadline, re-locks m (always, even after a timeout).
  // Returns the wait's outcome (Acquired = notified, TimedOut) and, in relock, the re-lock's.
  Result<Outcome> wait(Mutex& m, Deadline deadline, Outcome* relock, const Canceller* c = nullptr);

  // "Notified since `seen`": attempt() succeeds once the sequence moved on.
  class WaitOp : public AcquireOp {
   public:
    WaitOp(Condition c, uint32_t seen) : mem_(c.m_), seen_(seen) {}
    Outcome attempt(bool) override { return c().sequence() != seen_ ? Outcome::Acquired : Outcome::Busy; }
    bool prepare(WaitSet& ws) override;
    void afterWait() override { c().m_->sleepers.fetch_sub(1); }
    // Giving up (cancelled, closed, terminated) after a notify moved the sequence: that notify's
    // wake-up may have been ours, so hand it to another sleeper (notify(1) must reach a waiter).
    void giveUp() override;

   private:
    void* mem_;
    Condition c() const { return Condition(mem_); }
    uint32_t seen_;
  };

 private:
  struct Layout {
    SyncHeader header;
    std::atomic<uint32_t> seq;
    std::atomic<uint32_t> sleepers;
    uint8_t spare[40];
  };
  static_assert(sizeof(Layout) == kSize);
  Layout* m_;
};

}  // namespace interproc
