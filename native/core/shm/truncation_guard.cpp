#include "core/shm/truncation_guard.hpp"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdio>
#include <mutex>
#include <thread>

#include "core/internal/portable.hpp"

namespace interproc::truncation {

namespace {

// A slot's life: Free -> Claimed (track fills it) -> Active -> Closing (untrack waits for users) -> Free.
// The signal handler reads only atomics and takes no lock: it counts itself in `busy` and re-checks
// Active, and untrack() waits for busy to drop to 0 before the memory is unmapped, so the handler can
// never map over an address range that is no longer this slot's.
enum State : uint32_t { kFree, kClaimed, kActive, kClosing };

struct Slot {
  std::atomic<uint32_t> state{kFree};
  std::atomic<uint32_t> busy{0};
  std::atomic<uintptr_t> start{0};
  std::atomic<uintptr_t> end{0};
  std::atomic<uintptr_t> zeroFrom{0};  // lowest address already mapped over with zeros (end: none)
  std::atomic<int> fd{-1};
  std::atomic<int> wd{-1};         // inotify watch, -1 when none
  std::atomic<uint32_t> epoch{0};  // changes at every untrack: a Place of an earlier mapping no longer pins
};

Slot slots[kSlots];
uint32_t truncatedWords[kSlots];  // accessed with __atomic builtins (also futex words and a JS view)
std::atomic<int> highWater{0};    // slots at or above it were never used: scans stop there

std::mutex trackMutex;  // track/untrack/watch bookkeeping only, never taken by the handler
struct sigaction previous {};
std::atomic<bool> installed{false};
int inotifyFd = -1;  // under trackMutex

uintptr_t pageSize() {
  static const uintptr_t size = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  return size;
}

void mark(int i) {
  __atomic_store_n(&truncatedWords[i], 1, __ATOMIC_RELEASE);
  syscall(SYS_futex, &truncatedWords[i], FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

bool enter(Slot& s) {
  s.busy.fetch_add(1);
  if (s.state.load() == kActive) return true;
  s.busy.fetch_sub(1);
  return false;
}
void leave(Slot& s) { s.busy.fetch_sub(1); }

// With the slot entered: fstat the object; map zeros over every page past its end that is not yet
// zeros (and at least from the faulting page, when `fault`), mark the slot if the object shrank.
// Async-signal-safe (fstat, mmap and futex are plain system calls). False when there was nothing to
// repair for a fault, or the repair failed: the caller then lets the fault take its course.
bool repair(int i, uintptr_t fault) {
  Slot& s = slots[i];
  const uintptr_t start = s.start.load(), end = s.end.load();
  const uintptr_t length = end - start;
  uintptr_t lost = start;  // size unknown: all of it
  bool shrank = true;
  int fd = s.fd.load();
  portable::FileStat st{};
  if (fd >= 0 && portable::fileStat(fd, st) == 0) {  // statx: a plain system call
    uintptr_t size = static_cast<uintptr_t>(st.size);
    shrank = size < length;
    uintptr_t kept = size >= length ? length : (size + pageSize() - 1) & ~(pageSize() - 1);
    lost = start + (kept > length ? length : kept);
  }
  if (fault != 0) {
    uintptr_t page = fault & ~(pageSize() - 1);
    if (page < lost) lost = page;
    shrank = true;  // a bus error inside the mapping means a page past the end was touched
  }
  if (!shrank) return false;
  // Mark first: whoever reads the zero pages without faulting (another thread, after the mmap below)
  // must find the mark already set when it checks after reading.
  mark(i);
  uintptr_t old = s.zeroFrom.load();
  while (lost < old) {
    if (s.zeroFrom.compare_exchange_weak(old, lost)) {
      void* p = mmap(reinterpret_cast<void*>(lost), old - lost, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      if (p == MAP_FAILED) {
        s.zeroFrom.store(old);  // nothing changed: a fault there stays a fault
        return false;
      }
      break;
    }
  }
  return true;
}

// The entered slot whose mapping holds addr, or -1.
int enterSlotOf(uintptr_t addr) {
  int n = highWater.load();
  for (int i = 0; i < n; ++i) {
    Slot& s = slots[i];
    if (s.state.load() != kActive) continue;
    if (addr < s.start.load() || addr >= s.end.load()) continue;
    if (!enter(s)) continue;
    if (addr >= s.start.load() && addr < s.end.load()) return i;
    leave(s);
  }
  return -1;
}

// Hands a signal that is not ours to whatever was installed before, as if we had never been there.
void chain(int sig, siginfo_t* info, void* context) {
  if ((previous.sa_flags & SA_SIGINFO) != 0) {
    if (previous.sa_sigaction != nullptr) previous.sa_sigaction(sig, info, context);
    return;
  }
  if (previous.sa_handler == SIG_IGN) {
    if (info->si_code <= 0) return;  // sent by kill(): ignored, as before
    // A real fault cannot be ignored: the kernel kills on the re-executed access (restore first, so
    // it is not delivered to us again).
    sigaction(SIGBUS, &previous, nullptr);
    return;
  }
  if (previous.sa_handler == SIG_DFL) {
    // Restore the default. A fault re-executes the access on return and is delivered again, now
    // with the default action (the process dies with SIGBUS and its core shows the real fault);
    // a signal sent by kill() is raised again (blocked in this handler: delivered as it returns).
    sigaction(SIGBUS, &previous, nullptr);
    if (info->si_code <= 0) raise(SIGBUS);
    return;
  }
  previous.sa_handler(sig);
}

void onSigbus(int sig, siginfo_t* info, void* context) {
  int savedErrno = errno;
  // BUS_ADRERR is what the kernel sends for a page past the end of a file mapping; anything else
  // (alignment, hardware memory errors, kill()) is not ours.
  if (info != nullptr && info->si_code == BUS_ADRERR) {
    int i = enterSlotOf(reinterpret_cast<uintptr_t>(info->si_addr));
    if (i >= 0) {
      bool repaired = repair(i, reinterpret_cast<uintptr_t>(info->si_addr));
      leave(slots[i]);
      if (repaired) {
        errno = savedErrno;
        return;  // the access runs again, on zeros
      }
    }
  }
  chain(sig, info, context);
  errno = savedErrno;
}

void install() {
  if (installed.load()) return;
  struct sigaction sa {};
  sa.sa_sigaction = onSigbus;
  sigemptyset(&sa.sa_mask);
  // SA_ONSTACK: run on the thread's alternate stack if it has one (a fault may come with a full
  // stack). No SA_NODEFER: a fault inside the handler itself must kill, not recurse.
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  if (sigaction(SIGBUS, nullptr, &previous) != 0) return;
  if (sigaction(SIGBUS, &sa, nullptr) != 0) return;
  installed.store(true);
}

void checkWatched(int wd) {
  int n = highWater.load();
  for (int i = 0; i < n; ++i) {
    Slot& s = slots[i];
    if (wd >= 0 && s.wd.load() != wd) continue;
    if (!enter(s)) continue;
    repair(i, 0);
    leave(s);
  }
}

void watchLoop(int fd) {
  sigset_t all;
  sigfillset(&all);
  // sigprocmask is this thread's mask on Linux (pthread_sigmask needs GLIBC_2.32): signals for the
  // process go to its other threads.
  sigprocmask(SIG_BLOCK, &all, nullptr);
  alignas(inotify_event) char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // closed (after fork, in a child): the child starts its own
    }
    for (ssize_t off = 0; off < n;) {
      auto* ev = reinterpret_cast<inotify_event*>(buf + off);
      checkWatched((ev->mask & IN_Q_OVERFLOW) != 0 ? -1 : ev->wd);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
}

void afterForkInChild() {
  // The watcher thread did not come along; the inherited inotify fd is shared with the parent.
  if (inotifyFd >= 0) close(inotifyFd);
  inotifyFd = -1;
  for (Slot& s : slots) s.wd.store(-1);
}

// Under trackMutex. The inotify instance and its thread, started on first use.
int watcher() {
  static bool atforkDone = false;
  if (!atforkDone) {
    pthread_atfork(nullptr, nullptr, afterForkInChild);
    atforkDone = true;
  }
  if (inotifyFd >= 0) return inotifyFd;
  int fd = inotify_init1(IN_CLOEXEC);
  if (fd < 0) return -1;
  try {
    std::thread(watchLoop, fd).detach();
  } catch (...) {
    close(fd);
    return -1;
  }
  inotifyFd = fd;
  return fd;
}

}  // namespace

int track(void* start, size_t length, int fd, bool watch) {
  std::lock_guard<std::mutex> lock(trackMutex);
  install();
  for (int i = 0; i < kSlots; ++i) {
    Slot& s = slots[i];
    uint32_t expected = kFree;
    if (!s.state.compare_exchange_strong(expected, kClaimed)) continue;
    auto a = reinterpret_cast<uintptr_t>(start);
    s.start.store(a);
    s.end.store(a + length);
    s.zeroFrom.store(a + length);
    s.fd.store(fd);
    s.wd.store(-1);
    __atomic_store_n(&truncatedWords[i], 0, __ATOMIC_RELEASE);
    if (watch && fd >= 0) {
      int ifd = watcher();
      if (ifd >= 0) {
        char path[64];
        std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        s.wd.store(inotify_add_watch(ifd, path, IN_MODIFY));
      }
    }
    if (i >= highWater.load()) highWater.store(i + 1);
    s.state.store(kActive);
    return i;
  }
  return -1;
}

void untrack(int slot) {
  if (slot < 0 || slot >= kSlots) return;
  std::lock_guard<std::mutex> lock(trackMutex);
  Slot& s = slots[slot];
  s.state.store(kClosing);
  while (s.busy.load() != 0) sched_yield();
  int wd = s.wd.exchange(-1);
  if (wd >= 0 && inotifyFd >= 0) {
    // One watch per inode: keep it while another mapping of the same object uses it.
    bool shared = false;
    for (int i = 0, n = highWater.load(); i < n && !shared; ++i) shared = i != slot && slots[i].wd.load() == wd;
    if (!shared) inotify_rm_watch(inotifyFd, wd);
  }
  s.epoch.fetch_add(1);  // with busy at 0: no Pinned of the old mapping is alive, and none can start
  s.fd.store(-1);
  s.start.store(0);
  s.end.store(0);
  s.state.store(kFree);
}

bool truncated(int slot) {
  return slot >= 0 && slot < kSlots && __atomic_load_n(&truncatedWords[slot], __ATOMIC_ACQUIRE) != 0;
}

bool check(int slot) {
  if (slot < 0 || slot >= kSlots) return false;
  Slot& s = slots[slot];
  if (enter(s)) {
    repair(slot, 0);
    leave(s);
  }
  return truncated(slot);
}

const uint32_t* wordFor(const void* addr) {
  int i = enterSlotOf(reinterpret_cast<uintptr_t>(addr));
  if (i < 0) return nullptr;
  leave(slots[i]);
  return &truncatedWords[i];
}

Place placeOf(const void* addr) {
  // Lock after lock usually lands in the mapping of the one before: try that slot before the scan.
  thread_local int last = -1;
  auto a = reinterpret_cast<uintptr_t>(addr);
  int i = -1;
  if (last >= 0 && enter(slots[last])) {
    if (a >= slots[last].start.load() && a < slots[last].end.load()) i = last;
    else leave(slots[last]);
  }
  if (i < 0) i = enterSlotOf(a);
  if (i < 0) return {};
  last = i;
  Place p{i, slots[i].epoch.load()};
  leave(slots[i]);
  return p;
}

Pinned::Pinned(Place p) : slot_(p.slot), ok_(true) {
  if (slot_ < 0 || slot_ >= kSlots) return;
  Slot& s = slots[slot_];
  ok_ = enter(s);
  if (ok_ && s.epoch.load() != p.epoch) {
    leave(s);
    ok_ = false;
  }
}

Pinned::~Pinned() {
  if (ok_ && slot_ >= 0 && slot_ < kSlots) leave(slots[slot_]);
}

bool Pinned::zeroed(const void* addr) const {
  if (!ok_ || slot_ < 0 || slot_ >= kSlots) return false;
  return reinterpret_cast<uintptr_t>(addr) >= slots[slot_].zeroFrom.load();
}

uint32_t* words() { return truncatedWords; }

bool handlerInstalled() { return installed.load(); }

}  // namespace interproc::truncation
