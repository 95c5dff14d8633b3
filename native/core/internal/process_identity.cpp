#include "core/internal/process_identity.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace interproc::process_identity {

int64_t startTime(pid_t pid) {
  if (pid <= 0) return -1;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  // "pid (comm) state ..." where comm may contain spaces and ')': fields start after the last ')'.
  char* p = std::strrchr(buf, ')');
  if (p == nullptr || p[1] != ' ') return -1;
  p += 2;
  if (*p == 'Z' || *p == 'X') return -1;  // exited, not yet reaped: dead for our purposes
  // p is at field 3 (state); field 22 is starttime.
  for (int field = 3; field < 22; ++field) {
    p = std::strchr(p, ' ');
    if (p == nullptr) return -1;
    ++p;
  }
  return std::strtoll(p, nullptr, 10);
}

bool alive(pid_t pid, int64_t start) { return start >= 0 && startTime(pid) == start; }

}  // namespace interproc::process_identity
