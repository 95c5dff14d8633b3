#include "core/internal/pidfd.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace interproc::pidfd {

Result<int> open(pid_t pid) {
  if (pid <= 0) return SysError{ESRCH, "pidfd_open"};
  // No flags: PIDFD_NONBLOCK is not needed, waitid below always passes WNOHANG. The fd is
  // close-on-exec by definition (pidfd_open sets O_CLOEXEC).
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return SysError::fromErrno("pidfd_open");
  return static_cast<int>(fd);
}

Result<ExitStatus> exitStatus(int fd) {
  siginfo_t info{};
  int rc;
  do {
    rc = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(fd), &info, WEXITED | WNOHANG | WNOWAIT);
  } while (rc < 0 && errno == EINTR);
  ExitStatus s;
  if (rc < 0) {
    if (errno == ECHILD) return s;  // not our child, or reaped already: the status is not ours to read
    return SysError::fromErrno("waitid");
  }
  if (info.si_pid == 0) return s;  // WNOHANG: not ended yet (a spurious wake-up)
  s.known = true;
  if (info.si_code == CLD_EXITED) {
    s.code = info.si_status;
  } else {
    s.signal = info.si_status;  // CLD_KILLED or CLD_DUMPED
  }
  return s;
}

bool ended(int fd) {
  pollfd p{fd, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, 0);
  } while (rc < 0 && errno == EINTR);
  return rc > 0 && (p.revents & POLLIN) != 0;
}

}  // namespace interproc::pidfd
