#include "core/sync/wait_set.hpp"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "core/shm/futex.hpp"
#include "core/shm/truncation_guard.hpp"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

namespace interproc {

int64_t monotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

Deadline deadlineAfter(std::optional<int64_t> timeout_ns) {
  if (!timeout_ns) return std::nullopt;
  return monotonicNs() + (*timeout_ns < 0 ? 0 : *timeout_ns);
}

void Canceller::cancel() {
  flag_.store(1, std::memory_order_release);
  syscall(SYS_futex, &flag_, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

bool WaitSet::add(const void* word, uint32_t expected) {
  if (n_ >= kMax) return false;
  w_[n_] = futex_waitv{expected, reinterpret_cast<uint64_t>(word), FUTEX_32, 0};
  ++n_;
  return true;
}

Result<Wake> WaitSet::wait(Deadline deadline, const Canceller* c) const {
  futex_waitv all[kMax + 2];
  int n = 0;
  for (int i = 0; i < n_; ++i) all[n++] = w_[i];
  if (c != nullptr) {
    if (c->cancelled()) return Wake::Cancelled;
    all[n++] = futex_waitv{0, reinterpret_cast<uint64_t>(c->word()), FUTEX_32 | FUTEX_PRIVATE_FLAG, 0};
  }
  // A truncate of the segment ends the sleep (nobody could wake it on lost pages): it counts as a
  // cancel, and the caller sees the segment's truncated mark (core/shm/truncation_guard.hpp).
  const uint32_t* cut = n_ > 0 ? truncation::wordFor(reinterpret_cast<const void*>(w_[0].uaddr)) : nullptr;
  if (cut != nullptr) {
    if (__atomic_load_n(cut, __ATOMIC_ACQUIRE) != 0) return Wake::Cancelled;
    all[n++] = futex_waitv{0, reinterpret_cast<uint64_t>(cut), FUTEX_32 | FUTEX_PRIVATE_FLAG, 0};
  }
  if (n == 0) return Wake::Ready;
  for (;;) {
    timespec ts{};
    timespec* tsp = nullptr;
    if (deadline) {
      if (*deadline <= monotonicNs()) return Wake::TimedOut;
      ts.tv_sec = *deadline / 1'000'000'000;
      ts.tv_nsec = *deadline % 1'000'000'000;
      tsp = &ts;
    }
    long rc = syscall(SYS_futex_waitv, all, n, 0, tsp, CLOCK_MONOTONIC);
    if (rc >= 0 || errno == EAGAIN) break;
    if (errno == ETIMEDOUT) return Wake::TimedOut;
    if (errno == EINTR) continue;
    return SysError::fromErrno("futex_waitv");
  }
  if (c != nullptr && c->cancelled()) return Wake::Cancelled;
  if (cut != nullptr && __atomic_load_n(cut, __ATOMIC_ACQUIRE) != 0) return Wake::Cancelled;
  return Wake::Ready;
}

Result<Outcome> acquireBlocking(AcquireOp& op, Deadline deadline, const Canceller* c, const StopPoll* poll) {
  for (bool waited = false;; waited = true) {
    Outcome o = op.attempt(waited);
    if (o != Outcome::Busy) return o;
    WaitSet ws;
    if (!op.prepare(ws)) continue;
    Deadline until = deadline;
    bool slice = false;
    if (poll != nullptr) {
      int64_t end = monotonicNs() + poll->sliceNs;
      if (!deadline || end < *deadline) {
        until = end;
        slice = true;
      }
    }
    auto r = ws.wait(until, c);
    op.afterWait();
    if (!r) {
      op.giveUp();
      return r.error();
    }
    if (r.value() == Wake::Cancelled) {
      op.giveUp();
      return Outcome::Cancelled;
    }
    if (r.value() == Wake::TimedOut && slice) {
      // Only a slice ended: ask whether to stop, else try again (as after a wake-up) and sleep on.
      if (poll->stop(poll->ctx)) {
        op.giveUp();
        return Outcome::Terminating;
      }
      continue;
    }
    if (r.value() == Wake::TimedOut) {
      // One last try: a release may have come with the timeout; taking it avoids a lost hand-off.
      o = op.attempt(true);
      if (o != Outcome::Busy && o != Outcome::Deadlock) return o;
      op.giveUp();
      return Outcome::TimedOut;
    }
  }
}

}  // namespace interproc
