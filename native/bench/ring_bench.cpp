// Native floor for the mailbox benchmarks: the C++ ring (native/core/mailbox/ring.hpp) between two forked
// processes pinned to CPUs 0 and 1. Round trips of 64 B with the consumer spinning, polling then
// sleeping on a futex (hybrid), or sleeping at once (futex); the eventfd + epoll round trip (the
// cheapest way to wake another process's event loop); throughput at 64 B and 64 KiB.
// Prints one JSON row per result (bench/lib/report.cjs contract).
//   build-native/ring_bench [--quick] [--reps=N] [--only=spin|hybrid|futex|eventfd|tput64|tput64k]
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "core/mailbox/ring.hpp"
#include "core/shm/futex.hpp"
#include "core/shm/shared_memory.hpp"

using namespace interproc;
using namespace interproc::ring;

namespace {

using bench::nowUs;
using bench::pin;

double cpuUs() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec * 1e6 + u.ru_utime.tv_usec + u.ru_stime.tv_sec * 1e6 + u.ru_stime.tv_usec;
}
void row(const char* mechanism, const char* mode, int payload, const char* metric, const std::vector<double>& runs,
         const char* note) {
  bench::printRow({"mailbox", mechanism, mode, payload, metric, runs, "pinned CPUs 0/1", note});
}
void progress(const char* m) { std::fprintf(stderr, "  .. %s\n", m); }

// Shared scratch for the two processes: a 2-member group plus a few control words.
struct Shared {
  Segment seg;
  GroupLayout l;
  uint8_t* base() { return static_cast<uint8_t*>(seg.data()); }
  RingHeader* ring(int f, int t) { return reinterpret_cast<RingHeader*>(base() + l.ringOffset(f, t)); }
  uint8_t* data(int f, int t) { return base() + l.ringOffset(f, t) + sizeof(RingHeader); }
  uint32_t* bell(int m) { return &reinterpret_cast<MemberSlot*>(base() + l.slotOffset(m))->bell; }
  double* childCpu() { return reinterpret_cast<double*>(base() + l.totalSize); }  // one per repetition
};

Shared makeShared(uint32_t capacity) {
  Shared s;
  s.l = layoutFor(2, capacity);
  s.seg = std::move(Segment::anonymous(s.l.totalSize + 4096).value());
  initGroup(s.seg.data(), s.l);
  return s;
}

enum class Wait { Spin, Hybrid, Futex };

// The wake-up protocol of docs/design/mailbox.md, in C++: announce, re-check, sleep; wake only a sleeper.
struct Side {
  Shared* s;
  int me, peer;
  Producer out;
  Consumer in;
  Wait wait;
  Side(Shared* sh, int m, Wait w)
      : s(sh),
        me(m),
        peer(1 - m),
        out(sh->ring(m, 1 - m), sh->data(m, 1 - m)),
        in(sh->ring(1 - m, m), sh->data(1 - m, m)),
        wait(w) {}
  void send(const void* p, uint32_t n) {
    while (!out.tryWrite(p, n)) {}
    std::atomic_thread_fence(std::memory_order_seq_cst);  // tail store before the sleep-flag load
    std::atomic_ref<uint32_t> flag(s->ring(me, peer)->consumerSleep);
    if (flag.load(std::memory_order_relaxed) != kAwake && flag.exchange(kAwake) != kAwake) {
      std::atomic_ref<uint32_t>(*s->bell(peer)).fetch_add(1);
      futex::wake(s->bell(peer), INT_MAX);
    }
  }
  uint32_t receive(void* buf, uint32_t cap) {
    int64_t n;
    int polls = wait == Wait::Futex ? 0 : (wait == Wait::Hybrid ? 20000 : INT_MAX);
    for (int i = 0; (n = in.tryRead(buf, cap)) < 0; ++i) {
      if (i < polls) continue;
      std::atomic_ref<uint32_t> bell(*s->bell(me));
      uint32_t b = bell.load();
      std::atomic_ref<uint32_t>(s->ring(peer, me)->consumerSleep).store(kFutex, std::memory_order_seq_cst);
      if ((n = in.tryRead(buf, cap)) >= 0) break;
      futex::wait(s->bell(me), b, 100'000'000);
      i = 0;
    }
    std::atomic_ref<uint32_t>(s->ring(peer, me)->consumerSleep).store(kAwake, std::memory_order_relaxed);
    return static_cast<uint32_t>(n);
  }
};

void pingPong(const char* modeName, Wait w, int iterations, int reps, const char* note) {
  progress((std::string("C++ ring round trip 64 B, ") + modeName).c_str());
  Shared s = makeShared(1 << 16);
  uint8_t msg[64] = {1};
  uint8_t buf[256];
  pid_t pid = fork();
  if (pid == 0) {
    pin(1);
    Side me(&s, 1, w);
    for (int r = 0; r <= reps; ++r) {
      double c0 = cpuUs();
      int n = r == 0 ? iterations * 3 : iterations;  // a long warm-up, like the Node sides' 0.5 s
      for (int i = 0; i < n; ++i) {
        uint32_t len = me.receive(buf, sizeof buf);
        me.send(buf, len);
      }
      if (r > 0) s.childCpu()[r - 1] = cpuUs() - c0;
    }
    _exit(0);
  }
  pin(0);
  Side me(&s, 0, w);
  std::vector<double> rtt, cpu;
  for (int r = 0; r <= reps; ++r) {
    int n = r == 0 ? iterations * 3 : iterations;  // a long warm-up, like the Node sides' 0.5 s
    double c0 = cpuUs(), t0 = nowUs();
    for (int i = 0; i < n; ++i) {
      me.send(msg, sizeof msg);
      me.receive(buf, sizeof buf);
    }
    double t1 = nowUs(), c1 = cpuUs();
    if (r > 0) {
      rtt.push_back((t1 - t0) / n);
      cpu.push_back(c1 - c0);
    }
  }
  waitpid(pid, nullptr, 0);
  for (int r = 0; r < reps; ++r) cpu[r] = (cpu[r] + s.childCpu()[r]) / (2.0 * iterations);  // 2 messages per round trip
  row("C++ ring (native/core/mailbox/ring.hpp)", modeName, 64, "rtt_us", rtt, note);
  row("C++ ring (native/core/mailbox/ring.hpp)", (std::string(modeName) + ", ping-pong").c_str(), 64, "cpu_us_per_msg",
      cpu, "CPU of both processes per message");
}

// eventfd + epoll_wait ping-pong: what a libuv poll handle does to wake an event loop.
void eventfdFloor(int iterations, int reps) {
  progress("eventfd + epoll round trip");
  int a = eventfd(0, EFD_NONBLOCK), b = eventfd(0, EFD_NONBLOCK);
  Shared s = makeShared(4096);
  auto waitOn = [](int ep, int fd) {
    epoll_event ev{};
    while (epoll_wait(ep, &ev, 1, -1) != 1) {}
    uint64_t v;
    (void)!read(fd, &v, sizeof v);
  };
  uint64_t one = 1;
  pid_t pid = fork();
  if (pid == 0) {
    pin(1);
    int ep = epoll_create1(0);
    epoll_event ev{EPOLLIN, {}};
    epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev);
    for (int r = 0; r <= reps; ++r) {
      double c0 = cpuUs();
      int n = r == 0 ? iterations * 3 : iterations;  // a long warm-up, like the Node sides' 0.5 s
      for (int i = 0; i < n; ++i) {
        waitOn(ep, a);
        (void)!write(b, &one, sizeof one);
      }
      if (r > 0) s.childCpu()[r - 1] = cpuUs() - c0;
    }
    _exit(0);
  }
  pin(0);
  int ep = epoll_create1(0);
  epoll_event ev{EPOLLIN, {}};
  epoll_ctl(ep, EPOLL_CTL_ADD, b, &ev);
  std::vector<double> rtt, cpu;
  for (int r = 0; r <= reps; ++r) {
    int n = r == 0 ? iterations * 3 : iterations;  // a long warm-up, like the Node sides' 0.5 s
    double c0 = cpuUs(), t0 = nowUs();
    for (int i = 0; i < n; ++i) {
      (void)!write(a, &one, sizeof one);
      waitOn(ep, b);
    }
    double t1 = nowUs(), c1 = cpuUs();
    if (r > 0) {
      rtt.push_back((t1 - t0) / n);
      cpu.push_back(c1 - c0);
    }
  }
  waitpid(pid, nullptr, 0);
  for (int r = 0; r < reps; ++r) cpu[r] = (cpu[r] + s.childCpu()[r]) / (2.0 * iterations);
  row("C eventfd + epoll_wait", "event-loop wake-up floor", 8, "rtt_us", rtt, "no payload: the doorbell alone");
  row("C eventfd + epoll_wait", "event-loop wake-up floor, ping-pong", 8, "cpu_us_per_msg", cpu,
      "CPU of both processes per wake-up");
}

void throughput(uint32_t size, int count, int reps) {
  progress((std::string("C++ ring throughput ") + std::to_string(size) + " B, spin").c_str());
  Shared s = makeShared(1 << 20);
  std::vector<uint8_t> msg(size, 7), buf(size);
  pid_t pid = fork();
  if (pid == 0) {
    pin(1);
    Consumer c(s.ring(0, 1), s.data(0, 1));
    for (int r = 0; r <= reps; ++r) {
      for (int i = 0; i < count; ++i) {
        while (c.tryRead(buf.data(), size) < 0) {}
      }
      Producer ack(s.ring(1, 0), s.data(1, 0));
      while (!ack.tryWrite(buf.data(), 1)) {}
    }
    _exit(0);
  }
  pin(0);
  Producer p(s.ring(0, 1), s.data(0, 1));
  Consumer ack(s.ring(1, 0), s.data(1, 0));
  std::vector<double> rate, mbs;
  for (int r = 0; r <= reps; ++r) {
    double t0 = nowUs();
    for (int i = 0; i < count; ++i) {
      while (!p.tryWrite(msg.data(), size)) {}
    }
    while (ack.tryRead(buf.data(), size) < 0) {}
    double t1 = nowUs();
    if (r > 0) {
      rate.push_back(count / ((t1 - t0) / 1e6));
      mbs.push_back(rate.back() * size / 1e6);
    }
  }
  waitpid(pid, nullptr, 0);
  row("C++ ring (native/core/mailbox/ring.hpp)", "spin", static_cast<int>(size), "msgs_per_s", rate,
      "1 MiB ring, copy in + copy out");
  if (size > 64)
    row("C++ ring (native/core/mailbox/ring.hpp)", "spin", static_cast<int>(size), "MB_per_s", mbs,
        "1 MiB ring, copy in + copy out");
}

}  // namespace

int main(int argc, char** argv) {
  // --quick: fewer iterations; --reps=N; --only=spin|hybrid|futex|eventfd|tput64|tput64k (one
  // measurement, so bench/scenarios/mailbox.cjs can interleave the floors with its Node rows)
  bool quick = false;
  int reps = -1;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (a.rfind("--reps=", 0) == 0) reps = std::max(1, std::atoi(a.c_str() + 7));
    else if (a.rfind("--only=", 0) == 0) only = a.substr(7);
  }
  if (reps < 0) reps = quick ? 3 : 5;
  int k = quick ? 3 : 1;
  auto want = [&](const char* name) { return only.empty() || only == name; };
  if (want("spin")) pingPong("spin", Wait::Spin, 200000 / k, reps, "consumer polls the ring");
  if (want("hybrid")) pingPong("hybrid", Wait::Hybrid, 200000 / k, reps, "20000 polls, then announce + futex sleep");
  if (want("futex"))
    pingPong("futex", Wait::Futex, 5000 / k, reps, "announce + futex sleep at once; wake only a sleeper");
  if (want("eventfd")) eventfdFloor(5000 / k, reps);
  if (want("tput64")) throughput(64, 2000000 / k, reps);
  if (want("tput64k")) throughput(65536, 20000 / k, reps);
  return 0;
}
