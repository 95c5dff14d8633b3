#include "futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace interproc::futex {

namespace {
int64_t nowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

Result<WaitOutcome> wait(const uint32_t* word, uint32_t expected, std::optional<int64_t> timeout_ns) {
  const int64_t deadline = timeout_ns ? nowNs() + (*timeout_ns < 0 ? 0 : *timeout_ns) : 0;
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
