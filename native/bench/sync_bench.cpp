// Native benchmarks of the core synchronisation primitives: the floor for the JS figures of
// bench/scenarios/sync.cjs, and glibc's robust process-shared pthread mutex as the C baseline.
// Prints one JSON row per result (bench/lib/report.cjs format). Usage: sync_bench [--quick]
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "core/sync/mutex.hpp"
#include "core/sync/rwlock.hpp"
#include "core/sync/semaphore.hpp"

using namespace interproc;

namespace {

using bench::pin;

int64_t nowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void row(const char* mechanism, const char* mode, const char* metric, const std::vector<double>& runs,
         const char* placement, bool baseline, const std::string& note) {
  std::string r;
  for (size_t i = 0; i < runs.size(); ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%.4g", i ? "," : "", runs[i]);
    r += buf;
  }
  std::printf(
      "{\"area\":\"sync\",\"mechanism\":\"%s\",\"mode\":\"%s\",\"payload\":null,\"metric\":\"%s\",\"runs\":[%s],"
      "\"placement\":\"%s\",\"baseline\":%s,\"note\":\"%s\"}\n",
      mechanism, mode, metric, r.c_str(), placement, baseline ? "true" : "false", note.c_str());
  std::fflush(stdout);
}

void progress(const char* what) { std::fprintf(stderr, "  .. %s\n", what); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// ns per call of fn over `ops` calls
double perOp(int ops, const std::function<void()>& fn) {
  int64_t t0 = nowNs();
  for (int i = 0; i < ops; ++i) fn();
  return double(nowNs() - t0) / ops;
}

struct Lock {
  std::function<void()> lock;
  std::function<void()> unlock;
};

// Hand-off latency: A holds the lock while B sleeps in lock(); A stamps the time and unlocks; B
// stamps when it has the lock. Median over `rounds` of (B's stamp - A's stamp), in µs.
struct Shared {
  std::atomic<int> ready{0}, waiting{0}, done{0};
  std::atomic<int64_t> t0{0};
};

double handoff(void* lockMem, Shared* sh, int rounds, const std::function<Lock(void*)>& make) {
  sh->ready = 0;
  sh->waiting = -1;
  sh->done = -1;
  auto* samples = static_cast<double*>(
      mmap(nullptr, sizeof(double) * rounds, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  pid_t b = fork();
  if (b == 0) {
    pin(1);
    Lock l = make(lockMem);
    for (int i = 0; i < rounds; ++i) {
      while (sh->ready.load() != i) {}
      sh->waiting.store(i);
      l.lock();
      int64_t t1 = nowNs();
      samples[i] = double(t1 - sh->t0.load()) / 1000.0;
      l.unlock();
      sh->done.store(i);
    }
    _exit(0);
  }
  pin(0);
  Lock l = make(lockMem);
  l.lock();
  for (int i = 0; i < rounds; ++i) {
    sh->ready.store(i);
    while (sh->waiting.load() != i) {}
    for (int64_t until = nowNs() + 1'000'000; nowNs() < until;) {
    }  // 1 ms spin (as the JS and Python sides): B is asleep by now
    sh->t0.store(nowNs());
    l.unlock();
    while (sh->done.load() != i) {}
    l.lock();
  }
  l.unlock();
  waitpid(b, nullptr, 0);
  std::vector<double> v(samples, samples + rounds);
  munmap(samples, sizeof(double) * rounds);
  return median(v);
}

void* sharedPage(size_t size) { return mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0); }

pthread_mutex_t* robustPthreadMutex(void* mem) {
  auto* m = static_cast<pthread_mutex_t*>(mem);
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(m, &a);
  pthread_mutexattr_destroy(&a);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int reps = quick ? 3 : 5;
  const int ops = 1'000'000;
  const int rounds = quick ? 200 : 400;
  void* mem = sharedPage(1 << 16);
  auto* sh = new (static_cast<uint8_t*>(mem) + 32768) Shared();
  pin(0);

  progress("uncontended lock+unlock");
  std::vector<double> core, glibc, sem, semRobust, rwRead, rwWrite;
  Mutex::init(mem);
  Mutex m(mem);
  pthread_mutex_t* pm = robustPthreadMutex(static_cast<uint8_t*>(mem) + 4096);
  Semaphore::init(static_cast<uint8_t*>(mem) + 8192, 1);
  Semaphore s(static_cast<uint8_t*>(mem) + 8192);
  Semaphore::init(static_cast<uint8_t*>(mem) + 20480, 1, true);
  Semaphore sr(static_cast<uint8_t*>(mem) + 20480);
  RwLock::init(static_cast<uint8_t*>(mem) + 16384);
  RwLock rw(static_cast<uint8_t*>(mem) + 16384);
  for (int r = 0; r < reps; ++r) {
    core.push_back(perOp(ops, [&] {
      m.tryLock();
      m.unlock();
    }));
    glibc.push_back(perOp(ops, [&] {
      pthread_mutex_lock(pm);
      pthread_mutex_unlock(pm);
    }));
    sem.push_back(perOp(ops, [&] {
      s.tryAcquire();
      s.release();
    }));
    semRobust.push_back(perOp(ops, [&] {
      sr.tryAcquire();
      sr.release();
    }));
    rwRead.push_back(perOp(ops, [&] {
      rw.tryRead();
      rw.unlockRead();
    }));
    rwWrite.push_back(perOp(ops, [&] {
      rw.tryWrite();
      rw.unlockWrite();
    }));
  }
  row("interproc core Mutex (C++)", "lock+unlock, uncontended", "ns_per_op", core, "CPU 0", false,
      "robust futex word on the thread's robust list; the floor for JS");
  row("glibc pthread_mutex (robust, pshared)", "lock+unlock, uncontended", "ns_per_op", glibc, "CPU 0", true,
      "PTHREAD_MUTEX_ROBUST + PTHREAD_PROCESS_SHARED");
  row("interproc core Semaphore (C++)", "acquire+release, uncontended", "ns_per_op", sem, "CPU 0", false, "");
  row("interproc core Semaphore (C++), robust", "acquire+release, uncontended", "ns_per_op", semRobust, "CPU 0", false,
      "takes and frees a holder slot on the robust list each time");
  row("interproc core RwLock (C++)", "read lock+unlock, uncontended", "ns_per_op", rwRead, "CPU 0", false,
      "scans 32 reader slots");
  row("interproc core RwLock (C++)", "write lock+unlock, uncontended", "ns_per_op", rwWrite, "CPU 0", false, "");

  progress("system call floor");
  std::vector<double> sys, wake;
  auto* fw = reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(mem) + 12288);
  for (int r = 0; r < reps; ++r) {
    sys.push_back(perOp(200'000, [&] { syscall(SYS_futex, fw, -1, 0, nullptr, nullptr, 0); }));
    wake.push_back(perOp(200'000, [&] { syscall(SYS_futex, fw, FUTEX_WAKE, 1, nullptr, nullptr, 0); }));
  }
  row("bare system call (C)", "futex with an invalid op (EINVAL)", "ns_per_op", sys, "CPU 0", true,
      "entry + exit cost of any system call on this VM in this run");
  row("futex wake, no waiter (C)", "FUTEX_WAKE on a MAP_SHARED word", "ns_per_op", wake, "CPU 0", true,
      "what an unlock with the waiters bit set adds");

  progress("hand-off latency between two processes");
  std::vector<double> hCore, hGlibc;
  for (int r = 0; r < reps; ++r) {
    Mutex::init(mem);
    hCore.push_back(handoff(mem, sh, rounds, [](void* p) {
      auto* mx = new Mutex(p);
      return Lock{[mx] { mx->lock(std::nullopt); }, [mx] { mx->unlock(); }};
    }));
    robustPthreadMutex(static_cast<uint8_t*>(mem) + 4096);
    hGlibc.push_back(handoff(static_cast<uint8_t*>(mem) + 4096, sh, rounds, [](void* p) {
      auto* pmx = static_cast<pthread_mutex_t*>(p);
      return Lock{[pmx] { pthread_mutex_lock(pmx); }, [pmx] { pthread_mutex_unlock(pmx); }};
    }));
  }
  std::string note = "unlock -> sleeping waiter owns it (median of " + std::to_string(rounds) + " hand-offs per run)";
  row("interproc core Mutex (C++)", "hand-off to a sleeping waiter", "one_way_us", hCore, "pinned CPUs 0/1", false,
      note);
  row("glibc pthread_mutex (robust, pshared)", "hand-off to a sleeping waiter", "one_way_us", hGlibc, "pinned CPUs 0/1",
      true, note);
  return 0;
}
