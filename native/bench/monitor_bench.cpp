// The floor for the monitor figures (bench/scenarios/monitor.cjs): from kill(SIGKILL) to the first
// word of the death that a C program can have, for a victim that is small (a forked child that only
// sleeps) and one shaped like a Node process (50 MB touched, 10 more threads). Each is told two ways:
//   pidfd readable    what monitor(pid) waits for: the kernel reports the end after the victim's
//                     memory is torn down (exit_mm -> exit_mmap), so the victim's size sets it
//   robust mutex      a process-shared robust pthread mutex held by the victim's main thread: the
//                     kernel hands it on, owner-dead, at the start of that thread's exit (exit_mm ->
//                     futex_exit_release, before the teardown): the earliest word there is
// A socket's EOF (what Erlang's distribution sees) comes with the pidfd, after the teardown too.
// Prints bench rows (bench/lib/report.cjs) as JSON lines; p50 over the kills, one run per repetition.
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "bench_util.hpp"

namespace {

using bench::nowUs;

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

struct Shared {
  pthread_mutex_t life;  // held by the victim's main thread for its whole life
};

void* idle(void*) {
  for (;;) pause();
}

struct Waiter {
  pthread_mutex_t* m;
  std::atomic<double> at{0};
};

void* takeOver(void* arg) {
  auto* w = static_cast<Waiter*>(arg);
  int r = pthread_mutex_lock(w->m);
  w->at = nowUs();
  if (r == EOWNERDEAD) pthread_mutex_consistent(w->m);
  pthread_mutex_unlock(w->m);
  return nullptr;
}

struct Times {
  double pidfd, robust;
};

// One kill of a victim with `mb` MB touched and `threads` idle threads.
Times once(long mb, int threads) {
  auto* s = static_cast<Shared*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&s->life, &a);
  int ready[2];
  if (pipe(ready) != 0) std::abort();
  pid_t pid = fork();
  if (pid == 0) {
    pthread_mutex_lock(&s->life);
    if (mb > 0) {
      auto* m = static_cast<char*>(mmap(nullptr, mb << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
      std::memset(m, 1, mb << 20);
    }
    for (int t = 0; t < threads; ++t) {
      pthread_t th;
      pthread_create(&th, nullptr, idle, nullptr);
    }
    if (write(ready[1], "r", 1) != 1) _exit(1);
    for (;;) pause();
  }
  char c;
  if (read(ready[0], &c, 1) != 1) std::abort();
  close(ready[0]);
  close(ready[1]);
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  Waiter w{&s->life};
  pthread_t th;
  pthread_create(&th, nullptr, takeOver, &w);
  usleep(20000);  // the waiter is asleep on the mutex
  double t0 = nowUs();
  kill(pid, SIGKILL);
  pollfd p{fd, POLLIN, 0};
  while (poll(&p, 1, -1) < 0 && errno == EINTR) {}
  double tp = nowUs();
  pthread_join(th, nullptr);
  waitpid(pid, nullptr, 0);
  close(fd);
  munmap(s, 4096);
  return {tp - t0, w.at - t0};
}

double p50(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  int reps = quick ? 3 : 5;
  int kills = quick ? 5 : 11;
  struct Victim {
    long mb;
    int threads;
    const char* mode;
  } victims[] = {{0, 0, "forked child, sleeping"}, {50, 10, "50 MB touched + 10 threads (a Node-sized process)"}};
  for (const Victim& v : victims) {
    std::vector<double> pidfdRuns, robustRuns;
    for (int r = 0; r < reps; ++r) {
      std::vector<double> pf, rb;
      for (int k = 0; k < kills; ++k) {
        Times t = once(v.mb, v.threads);
        pf.push_back(t.pidfd);
        rb.push_back(t.robust);
      }
      pidfdRuns.push_back(p50(pf));
      robustRuns.push_back(p50(rb));
    }
    bench::printRow({"monitor", "C: pidfd readable after SIGKILL", v.mode, -1, "p50_us", pidfdRuns, "unpinned",
                     "p50 of the kills, per repetition"});
    bench::printRow({"monitor", "C: robust mutex owner-dead after SIGKILL", v.mode, -1, "p50_us", robustRuns,
                     "unpinned", "p50 of the kills, per repetition"});
  }
  return 0;
}
