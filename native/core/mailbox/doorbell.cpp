#include "core/mailbox/doorbell.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace interproc::doorbell {

Result<int> create() {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return SysError::fromErrno("eventfd");
  return fd;
}

Status ring(int fd) {
  uint64_t one = 1;
  for (;;) {
    ssize_t n = ::write(fd, &one, sizeof one);
    if (n == sizeof one) return Ok{};
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return Ok{};
    if (n >= 0) return SysError{EINVAL, "write"};  // a short write: not an eventfd (errno is not set)
    return SysError::fromErrno("write");
  }
}

Result<bool> drain(int fd) {
  uint64_t v = 0;
  for (;;) {
    ssize_t n = ::read(fd, &v, sizeof v);
    if (n == sizeof v) return true;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return false;
    if (n >= 0) return SysError{EINVAL, "read"};  // end of file or a short read: not an eventfd (errno is not set)
    return SysError::fromErrno("read");
  }
}

Result<int> fetch(pid_t pid, int fd) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return SysError::fromErrno("pidfd_open");
  int local = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, fd, 0));
  int saved = errno;
  ::close(pidfd);
  if (local < 0) return SysError{saved, "pidfd_getfd"};
  // The fd number comes from a shared segment that any member can write: only ever ring an
  // eventfd, never write into whatever file, pipe or socket a bad number points at.
  if (!isEventfd(local)) {
    ::close(local);
    return SysError{EBADF, "pidfd_getfd"};
  }
  return local;  // pidfd_getfd sets close-on-exec on the new descriptor
}

bool isEventfd(int fd) {
  char path[64], target[64] = {};
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, target, sizeof target - 1);
  return n >= 0 && std::strcmp(target, "anon_inode:[eventfd]") == 0;
}

namespace {
int64_t monotonicNs() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}
}  // namespace

Result<WaitEnd> waitAny(int efd, const uint32_t* bell, uint32_t seen, std::span<const int> pidfds,
                        std::optional<int64_t> timeout_ns) {
  if (pidfds.size() > kMaxWaitPidfds) return SysError{EINVAL, "ppoll"};
  auto drained = drain(efd);
  if (!drained) return drained.error();
  if (__atomic_load_n(bell, __ATOMIC_SEQ_CST) != seen) return WaitEnd{WaitOutcome::NotEqual};
  pollfd fds[1 + kMaxWaitPidfds];
  fds[0] = {efd, POLLIN, 0};
  for (size_t i = 0; i < pidfds.size(); ++i) fds[i + 1] = {pidfds[i], POLLIN, 0};
  const auto n = static_cast<nfds_t>(1 + pidfds.size());
  const int64_t deadline = timeout_ns ? monotonicNs() + *timeout_ns : 0;
  for (;;) {
    timespec left{};
    timespec* limit = nullptr;
    if (timeout_ns) {
      int64_t ns = deadline - monotonicNs();
      if (ns < 0) ns = 0;
      left = {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
      limit = &left;
    }
    int rc = ::ppoll(fds, n, limit, nullptr);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return SysError::fromErrno("ppoll");
    if (rc == 0) {
      // Woken through the bell alone (it moved, nothing rang): the caller had better sleep on the futex.
      if (__atomic_load_n(bell, __ATOMIC_SEQ_CST) != seen) return WaitEnd{WaitOutcome::BellOnly};
      return WaitEnd{WaitOutcome::TimedOut};
    }
    // Any event on a pidfd (POLLIN, or POLLHUP once reaped; POLLNVAL for a closed number, which must
    // not make the caller sleep on it again either) ends the wait as that peer's end.
    for (nfds_t i = 1; i < n; ++i) {
      if (fds[i].revents != 0) return WaitEnd{WaitOutcome::PeerEnded, static_cast<size_t>(i - 1)};
    }
    return WaitEnd{WaitOutcome::Rung};
  }
}

Status close(int fd) {
  if (::close(fd) != 0 && errno != EINTR) return SysError::fromErrno("close");
  return Ok{};
}

}  // namespace interproc::doorbell
