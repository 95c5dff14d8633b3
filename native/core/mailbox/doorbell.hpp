// Doorbells that wake another process's event loop: an eventfd per mailbox member, watched by libuv
// in the owner, rung by peers that fetched a duplicate of it with pidfd_getfd(2) (Linux 5.6+; needs
// ptrace-attach permission over the owner: same uid without Yama restrictions, or CAP_SYS_PTRACE).
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "core/internal/result.hpp"

namespace interproc::doorbell {

// A non-blocking, close-on-exec eventfd.
Result<int> create();
// Adds 1 to the counter (wakes a poller). EAGAIN (counter saturated) counts as rung.
Status ring(int fd);
// Resets the counter; returns true if it was non-zero. EINVAL for an fd that reads other than 8 bytes
// (not an eventfd).
Result<bool> drain(int fd);
// A duplicate, in this process, of descriptor `fd` of process `pid` (pidfd_open + pidfd_getfd).
// EBADF when that descriptor is not an eventfd (the number came from shared memory: never trusted).
Result<int> fetch(pid_t pid, int fd);
// Whether `fd` is an eventfd of this process (a /proc/self/fd readlink).
bool isEventfd(int fd);
Status close(int fd);

}  // namespace interproc::doorbell
