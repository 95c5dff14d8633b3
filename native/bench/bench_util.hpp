// Helpers shared by the native benchmarks: a monotonic clock and CPU pinning (each side of a
// two-process benchmark runs on its own CPU).
#pragma once

#include <sched.h>
#include <time.h>

namespace bench {

inline double nowUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

inline void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof(set), &set);
}

}  // namespace bench
