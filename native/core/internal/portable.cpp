#include "core/internal/portable.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

// libstdc++'s inline atomics read glibc 2.32's __libc_single_threaded when the headers have it. This
// build's own definition, hidden and never set, makes them always take the atomic path (correct on
// every glibc) and keeps the build from needing GLIBC_2.32.
extern "C" __attribute__((visibility("hidden"))) char __libc_single_threaded = 0;

namespace interproc::portable {

namespace {
std::string shmPath(const char* name) {
  // The caller validated the name ("/" then no further "/"); glibc strips the leading slashes too.
  while (*name == '/') ++name;
  return std::string("/dev/shm/") + name;
}

void fill(const struct statx& sx, FileStat& out) {
  out.size = sx.stx_size;
  out.mode = sx.stx_mode;
  out.uid = sx.stx_uid;
}
}  // namespace

int shmOpen(const char* name, int flags, mode_t mode) {
  return ::open(shmPath(name).c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
}

int shmUnlink(const char* name) { return ::unlink(shmPath(name).c_str()); }

int fileStat(int fd, FileStat& out) {
  struct statx sx {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_SIZE | STATX_MODE | STATX_UID, &sx) != 0) return -1;
  fill(sx, out);
  return 0;
}

int pathStat(const char* path, FileStat& out) {
  struct statx sx {};
  if (::statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_SIZE | STATX_MODE | STATX_UID, &sx) != 0) return -1;
  fill(sx, out);
  return 0;
}

pid_t threadId() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

}  // namespace interproc::portable
