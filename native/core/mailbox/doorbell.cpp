#include "core/mailbox/doorbell.hpp"

#include <sys/eventfd.h>
#include <sys/syscall.h>
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

Status close(int fd) {
  if (::close(fd) != 0 && errno != EINTR) return SysError::fromErrno("close");
  return Ok{};
}

}  // namespace interproc::doorbell
