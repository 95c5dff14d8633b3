#include "core/shm/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>

#include "core/shm/truncation_guard.hpp"

namespace interproc::futex {

namespace {
int64_t nowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

Result<WaitOutcome> wait(const uint32_t* word, uint32_t expected, std::optional<int64_t> timeout_ns) {
  // In a tracked mapping, also sleep on its truncation word: a truncate ends the sleep (as woken;
  // the caller sees the mark).
  if (const uint32_t* cut = truncation::wordFor(word)) {
    auto r = waitOrCancel(word, expected, cut, timeout_ns);
    if (!r) return r.error();
    switch (r.value()) {
      case CancellableOutcome::NotEqual: return WaitOutcome::NotEqual;
      case CancellableOutcome::TimedOut: return WaitOutcome::TimedOut;
      default: return WaitOutcome::Ok;
    }
  }
  const int64_t deadline =
      timeout_ns ? nowNs() + std::min<int64_t>(std::max<int64_t>(*timeout_ns, 0), INT64_MAX / 4) : 0;
  for (;;) {
    timespec ts{};
    timespec* tsp = nullptr;
    if (timeout_ns) {
      int64_t left = deadline - nowNs();
      if (left <= 0) left = 0;
      ts.tv_sec = left / 1'000'000'000;
      ts.tv_nsec = left % 1'000'000'000;
      tsp = &ts;
    }
    long rc = syscall(SYS_futex, word, FUTEX_WAIT, expected, tsp, nullptr, 0);
    if (rc == 0) return WaitOutcome::Ok;
    switch (errno) {
      case EAGAIN: return WaitOutcome::NotEqual;
      case ETIMEDOUT: return WaitOutcome::TimedOut;
      case EINTR: continue;
      default: return SysError::fromErrno("futex");
    }
  }
}

Result<CancellableOutcome> waitOrCancel(const uint32_t* word, uint32_t expected, const uint32_t* cancel,
                                        std::optional<int64_t> timeout_ns) {
  if (__atomic_load_n(cancel, __ATOMIC_ACQUIRE) != 0) return CancellableOutcome::Cancelled;
  futex_waitv waiters[3] = {};
  waiters[0].val = expected;
  waiters[0].uaddr = reinterpret_cast<uintptr_t>(word);
  waiters[0].flags = FUTEX_32;  // shared: other processes wake it
  waiters[1].val = 0;
  waiters[1].uaddr = reinterpret_cast<uintptr_t>(cancel);
  waiters[1].flags = FUTEX_32 | FUTEX_PRIVATE_FLAG;
  unsigned count = 2;
  // A truncate of the word's segment ends the sleep as a wake-up (the caller sees the mark).
  const uint32_t* cut = truncation::wordFor(word);
  if (cut == cancel) cut = nullptr;
  if (cut != nullptr) {
    if (__atomic_load_n(cut, __ATOMIC_ACQUIRE) != 0) return CancellableOutcome::Ok;
    waiters[2] = waiters[1];
    waiters[2].uaddr = reinterpret_cast<uintptr_t>(cut);
    count = 3;
  }
  timespec deadline{};
  if (timeout_ns) {
    int64_t at = nowNs() + std::min<int64_t>(std::max<int64_t>(*timeout_ns, 0), INT64_MAX / 4);
    deadline.tv_sec = at / 1'000'000'000;
    deadline.tv_nsec = at % 1'000'000'000;
  }
  for (;;) {
    long rc = syscall(SYS_futex_waitv, waiters, count, 0, timeout_ns ? &deadline : nullptr, CLOCK_MONOTONIC);
    if (rc == 0 || rc == 2) return CancellableOutcome::Ok;
    if (rc == 1) return CancellableOutcome::Cancelled;
    switch (errno) {
      case EAGAIN:  // one of the words differed: which one?
        if (__atomic_load_n(cancel, __ATOMIC_ACQUIRE) != 0) return CancellableOutcome::Cancelled;
        if (cut != nullptr && __atomic_load_n(cut, __ATOMIC_ACQUIRE) != 0) return CancellableOutcome::Ok;
        return CancellableOutcome::NotEqual;
      case ETIMEDOUT: return CancellableOutcome::TimedOut;
      case EINTR: continue;  // the deadline is absolute: retry as is
      default: return SysError::fromErrno("futex_waitv");
    }
  }
}

void cancelWait(uint32_t* cancel) {
  __atomic_store_n(cancel, 1, __ATOMIC_RELEASE);
  syscall(SYS_futex, cancel, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, INT32_MAX, nullptr, nullptr, 0);
}

Result<int> wake(const uint32_t* word, int count) {
  long rc = syscall(SYS_futex, word, FUTEX_WAKE, count, nullptr, nullptr, 0);
  if (rc < 0) return SysError::fromErrno("futex");
  return static_cast<int>(rc);
}

const char* outcomeName(WaitOutcome o) {
  switch (o) {
    case WaitOutcome::Ok: return "ok";
    case WaitOutcome::NotEqual: return "not-equal";
    case WaitOutcome::TimedOut: return "timed-out";
  }
  return "ok";
}

}  // namespace interproc::futex
