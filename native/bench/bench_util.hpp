// Helpers shared by the native benchmarks: a monotonic clock, CPU pinning (each side of a
// two-process benchmark runs on its own CPU) and the result row bench/index.cjs reads.
#pragma once

#include <sched.h>
#include <time.h>

#include <cstdio>
#include <string>
#include <vector>

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

// One result line (JSON) on stdout, the row format of bench/lib/report.cjs.
struct Row {
  const char* area;
  const char* mechanism;
  const char* mode;
  long payload;  // bytes; < 0: none (null)
  const char* metric;
  const std::vector<double>& runs;
  const char* placement = "pinned CPUs 0/1";
  const char* note = "";
};

inline void printRow(const Row& r) {
  std::string runs;
  for (size_t i = 0; i < r.runs.size(); ++i) runs += (i ? "," : "") + std::to_string(r.runs[i]);
  std::string payload = r.payload < 0 ? "null" : std::to_string(r.payload);
  std::printf(
      "{\"area\":\"%s\",\"mechanism\":\"%s\",\"mode\":\"%s\",\"payload\":%s,\"metric\":\"%s\",\"runs\":[%s],"
      "\"placement\":\"%s\",\"baseline\":true,\"note\":\"%s\"}\n",
      r.area, r.mechanism, r.mode, payload.c_str(), r.metric, runs.c_str(), r.placement, r.note);
  std::fflush(stdout);
}

}  // namespace bench
