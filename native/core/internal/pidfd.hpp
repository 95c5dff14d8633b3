// Process descriptors (pidfd, Linux 5.3+): a file descriptor that names one process incarnation,
// so a process that ends is reported by the kernel at once (the fd becomes readable) and a reused
// pid can never be mistaken for it. Node-free wrappers of pidfd_open(2) and waitid(P_PIDFD).
#pragma once

#include <sys/types.h>

#include "core/internal/result.hpp"

namespace interproc::pidfd {

// A pidfd for `pid` (close-on-exec). ENOSYS/EPERM where the kernel or a seccomp filter forbids it,
// ESRCH when there is no such process.
Result<int> open(pid_t pid);

// How a process ended, as far as the kernel tells this process.
struct ExitStatus {
  bool known = false;  // false: not our child (or already reaped by someone else): only "it ended" is known
  int code = -1;       // exit code when it exited, else -1
  int signal = 0;      // the terminating signal when one killed it, else 0
};

// The exit status of the (ended) process behind `fd`, read without reaping it (WNOWAIT), so the
// parent's own waitpid (Node's child_process 'exit') still sees it. Ends with known = false when the
// process is not a child of this one. Call after the fd became readable; ECHILD is not an error.
Result<ExitStatus> exitStatus(int fd);

// True when the process behind `fd` has ended (poll(2) with a zero timeout: readable).
bool ended(int fd);

}  // namespace interproc::pidfd
