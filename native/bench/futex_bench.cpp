// The floor for the shared-memory figures: C++ ping-pong between two forked processes on one
// anonymous shared mapping, pinned to CPUs 0 and 1, waiting by futex, by spinning, or by a bounded
// spin then futex (hybrid). Prints bench rows (bench/lib/report.cjs) as JSON lines.
#include <sched.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "core/shm/futex.hpp"
#include "core/shm/shared_memory.hpp"

using namespace interproc;

namespace {

using bench::nowUs;
using bench::pin;

enum class Mode { Futex, Spin, Hybrid };

struct alignas(64) Flag {
  std::atomic<uint32_t> value{0};
  std::atomic<uint32_t> sleeping{0};
};

// Waits until flag == want. Futex: sleep at once; Spin: poll; Hybrid: poll `polls` times, then sleep,
// announcing it so the waker only pays for a wake when someone sleeps.
void awaitValue(Flag& f, uint32_t want, Mode mode) {
  const int polls = mode == Mode::Hybrid ? 20000 : (mode == Mode::Spin ? INT_MAX : 0);
  for (int i = 0; i < polls; ++i) {
    if (f.value.load(std::memory_order_acquire) == want) return;
    __builtin_ia32_pause();
  }
  for (;;) {
    uint32_t v = f.value.load(std::memory_order_acquire);
    if (v == want) return;
    f.sleeping.store(1, std::memory_order_seq_cst);
    if (f.value.load(std::memory_order_seq_cst) != want) {
      futex::wait(reinterpret_cast<uint32_t*>(&f.value), v, 100'000'000);
    }
    f.sleeping.store(0, std::memory_order_relaxed);
  }
}

void setValue(Flag& f, uint32_t v, Mode mode) {
  f.value.store(v, std::memory_order_seq_cst);
  if (mode != Mode::Spin && f.sleeping.load(std::memory_order_seq_cst)) {
    futex::wake(reinterpret_cast<uint32_t*>(&f.value), 1);
  }
}

// One repetition: `iters` round trips; returns the mean round trip in µs.
double pingPong(Mode mode, int iters, int cpuA, int cpuB) {
  auto seg = Segment::anonymous(4096);
  if (!seg) {
    std::perror("memfd");
    _exit(1);
  }
  auto* flags = new (seg.value().data()) Flag[2];
  pid_t pid = fork();
  if (pid == 0) {
    pin(cpuB);
    for (int i = 1; i <= iters; ++i) {
      awaitValue(flags[0], i, mode);
      setValue(flags[1], i, mode);
    }
    _exit(0);
  }
  pin(cpuA);
  // warm-up handshake
  double t0 = 0;
  for (int i = 1; i <= iters; ++i) {
    if (i == iters / 10 + 1) t0 = nowUs();
    setValue(flags[0], i, mode);
    awaitValue(flags[1], i, mode);
  }
  double us = (nowUs() - t0) / (iters - iters / 10);
  waitpid(pid, nullptr, 0);
  return us;
}

void row(const char* mode, const std::vector<double>& runs, const char* placement, const char* note) {
  bench::printRow({"shm", "C++ core, 2 processes (floor)", mode, -1, "rtt_us", runs, placement, note});
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  int reps = quick ? 3 : 5;
  struct Case {
    const char* name;
    Mode mode;
    int iters;
    int cpuB;
    const char* placement;
    const char* note;
  } cases[] = {
      {"futex", Mode::Futex, quick ? 2000 : 10000, 1, "pinned CPUs 0/1", "sleep at once, wake every hop"},
      {"spin", Mode::Spin, quick ? 50000 : 200000, 1, "pinned CPUs 0/1", "poll the flag's cache line"},
      {"hybrid", Mode::Hybrid, quick ? 50000 : 200000, 1, "pinned CPUs 0/1",
       "20000 polls, then futex; wake only a sleeper"},
      {"futex", Mode::Futex, quick ? 5000 : 20000, 0, "both on CPU 0", "no idle-vCPU wake-up"},
  };
  for (const Case& c : cases) {
    std::fprintf(stderr, "  .. C++ ping-pong %s (%s)\n", c.name, c.placement);
    std::vector<double> runs;
    for (int r = 0; r < reps; ++r) runs.push_back(pingPong(c.mode, c.iters, 0, c.cpuB));
    row(c.name, runs, c.placement, c.note);
  }
  return 0;
}
