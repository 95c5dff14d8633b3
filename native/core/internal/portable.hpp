// System calls made without the glibc wrappers that appeared after glibc 2.28, so that one build
// (a prebuild) loads on every glibc from 2.28 on: shm_open/shm_unlink moved into libc in 2.34,
// fstat/lstat became functions in 2.33, gettid appeared in 2.30. scripts/check-glibc.cjs checks
// the symbol versions a build needs; docs/design/internal.md says why.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace interproc::portable {

/** shm_open(3) as glibc does it: open("/dev/shm" + name), close-on-exec, no symlinks followed. */
int shmOpen(const char* name, int flags, mode_t mode);
/** shm_unlink(3): unlink("/dev/shm" + name). */
int shmUnlink(const char* name);

/** What fstat/lstat tell of a file, from statx(2) (glibc 2.28). */
struct FileStat {
  uint64_t size;
  uint32_t mode;
  uint32_t uid;
};
/** fstat(2): 0, or -1 with errno. */
int fileStat(int fd, FileStat& out);
/** lstat(2) (symlinks not followed): 0, or -1 with errno. */
int pathStat(const char* path, FileStat& out);

/** gettid(2). */
pid_t threadId();

}  // namespace interproc::portable
