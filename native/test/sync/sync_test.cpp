// C++ tests of the core synchronisation primitives across forked processes, including SIGKILL of a
// holder (robust futex owner-death) for Mutex, RwLock and Barrier.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "../check.hpp"
#include "core/shm/shared_memory.hpp"
#include "core/sync/barrier.hpp"
#include "core/sync/condition.hpp"
#include "core/sync/mutex.hpp"
#include "core/sync/robust_list.hpp"
#include "core/sync/rwlock.hpp"
#include "core/sync/semaphore.hpp"

using namespace interproc;

namespace {
constexpr int64_t kSec = 1'000'000'000;
Deadline in(int64_t ns) { return deadlineAfter(ns); }

Segment segment(size_t size) {
  auto s = Segment::anonymous(size);
  if (!s) std::abort();
  return std::move(s.value());
}

int waitChild(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Forks n children, child k running body(k) (its exit status), and returns their statuses.
template <typename Body>
std::vector<int> forkEach(int n, Body body) {
  std::vector<pid_t> kids;
  for (int k = 0; k < n; ++k) {
    pid_t pid = fork();
    if (pid == 0) _exit(body(k));
    kids.push_back(pid);
  }
  std::vector<int> statuses;
  for (pid_t p : kids) statuses.push_back(waitChild(p));
  return statuses;
}

// Forks a child that runs take() (false: it exits 1), then sets *flag and sleeps until killed;
// returns once the flag is set, so the child holds whatever take() took.
template <typename Take>
pid_t forkHolder(std::atomic<int>* flag, Take take) {
  flag->store(0);
  pid_t pid = fork();
  if (pid == 0) {
    if (!take()) _exit(1);
    flag->store(1);
    pause();
    _exit(0);
  }
  while (flag->load() == 0) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) {  // take() failed: no holder to test with
      std::fprintf(stderr, "forkHolder: the holder could not take the object\n");
      std::abort();
    }
    usleep(100);
  }
  return pid;
}

// Forks a child that SIGKILLs `victim` after `us` microseconds (while the caller sleeps on it).
pid_t killLater(pid_t victim, useconds_t us) {
  pid_t pid = fork();
  if (pid == 0) {
    usleep(us);
    kill(victim, SIGKILL);
    _exit(0);
  }
  return pid;
}
}  // namespace

TEST_CASE("robust list is usable on this thread") { CHECK(robust::check().ok()); }

TEST_CASE("header: wrong kind, no object, wrong version") {
  alignas(64) uint8_t mem[RwLock::kSize] = {};
  CHECK(Mutex::check(mem) == HeaderCheck::NoObject);
  Mutex::init(mem);
  CHECK(Mutex::check(mem) == HeaderCheck::Ok);
  CHECK(Semaphore::check(mem) == HeaderCheck::WrongKind);
  reinterpret_cast<SyncHeader*>(mem)->version = 99;
  CHECK(Mutex::check(mem) == HeaderCheck::WrongVersion);
}

TEST_CASE("mutex: try, relock is a deadlock, unlock by a non-owner is EPERM") {
  alignas(64) uint8_t mem[Mutex::kSize];
  Mutex::init(mem);
  Mutex m(mem);
  CHECK(m.tryLock() == Outcome::Acquired);
  CHECK(m.tryLock() == Outcome::Deadlock);
  auto r = m.lock(in(kSec));
  CHECK(r.ok() && r.value() == Outcome::Deadlock);
  std::thread other([&] {
    CHECK(m.tryLock() == Outcome::Busy);
    auto u = m.unlock();
    CHECK(!u.ok() && u.error().code == EPERM);
    auto t = m.lock(in(5'000'000));
    CHECK(t.ok() && t.value() == Outcome::TimedOut);
  });
  other.join();
  CHECK(m.unlock().ok());
  CHECK(m.markConsistent().error().code == EPERM);
}

TEST_CASE("mutex: 4 processes x 20000 increments of a plain counter") {
  Segment seg = segment(4096);
  auto* base = static_cast<uint8_t*>(seg.data());
  Mutex::init(base);
  auto* counter = reinterpret_cast<volatile uint64_t*>(base + 128);
  auto statuses = forkEach(4, [&](int) {
    Mutex m(base);
    for (int i = 0; i < 20000; ++i) {
      auto r = m.lock(std::nullopt);
      if (!r || r.value() != Outcome::Acquired) return 1;
      *counter = *counter + 1;
      if (!m.unlock()) return 2;
    }
    return 0;
  });
  for (int st : statuses) CHECK(st == 0);
  CHECK(*counter == 80000);
}

TEST_CASE("mutex: holder SIGKILLed -> waiter gets OwnerDead, then NotRecoverable without markConsistent") {
  Segment seg = segment(4096);
  auto* base = static_cast<uint8_t*>(seg.data());
  Mutex::init(base);
  auto* flag = reinterpret_cast<std::atomic<int>*>(base + 128);
  pid_t holder = forkHolder(flag, [&] { return Mutex(base).tryLock() == Outcome::Acquired; });
  Mutex m(base);
  CHECK(m.tryLock() == Outcome::Busy);
  pid_t killer = killLater(holder, 50'000);
  auto r = m.lock(in(10 * kSec));  // sleeping: the kernel must wake us at the death
  CHECK(r.ok() && r.value() == Outcome::OwnerDead);
  CHECK(!m.consistent());
  CHECK(m.unlock().ok());  // without markConsistent
  CHECK(m.tryLock() == Outcome::NotRecoverable);
  waitChild(killer);
  waitChild(holder);
  // and the recovering path
  Mutex::init(base);
  holder = forkHolder(flag, [&] { return Mutex(base).tryLock() == Outcome::Acquired; });
  kill(holder, SIGKILL);
  waitChild(holder);
  CHECK(m.tryLock() == Outcome::OwnerDead);
  CHECK(m.markConsistent().ok());
  CHECK(m.unlock().ok());
  CHECK(m.tryLock() == Outcome::Acquired);
  CHECK(m.unlock().ok());
}

TEST_CASE("mutex: a cancelled wait returns Cancelled and leaves the lock usable") {
  alignas(64) uint8_t mem[Mutex::kSize];
  Mutex::init(mem);
  Mutex m(mem);
  CHECK(m.tryLock() == Outcome::Acquired);
  Canceller c;
  std::atomic<int> result{-1};
  std::thread t([&] {
    auto r = m.lock(std::nullopt, &c);
    result = r.ok() ? static_cast<int>(r.value()) : -2;
  });
  usleep(20'000);
  c.cancel();
  t.join();
  CHECK(result == static_cast<int>(Outcome::Cancelled));
  CHECK(m.unlock().ok());
}

TEST_CASE("semaphore: bounds concurrency across processes") {
  Segment seg = segment(4096);
  auto* base = static_cast<uint8_t*>(seg.data());
  Semaphore::init(base, 2);
  auto* gauge = reinterpret_cast<std::atomic<int>*>(base + 128);
  auto* maxSeen = reinterpret_cast<std::atomic<int>*>(base + 132);
  auto statuses = forkEach(4, [&](int) {
    Semaphore s(base);
    for (int i = 0; i < 2000; ++i) {
      auto r = s.acquire(std::nullopt);
      if (!r || r.value() != Outcome::Acquired) return 1;
      int g = gauge->fetch_add(1) + 1;
      int m = maxSeen->load();
      while (g > m && !maxSeen->compare_exchange_weak(m, g)) {}
      gauge->fetch_sub(1);
      if (!s.release()) return 2;
    }
    return 0;
  });
  for (int st : statuses) CHECK(st == 0);
  CHECK(maxSeen->load() <= 2 && maxSeen->load() >= 1);
  Semaphore s(base);
  CHECK(s.value() == 2);
  CHECK(s.release(Semaphore::kMaxValue).error().code == EOVERFLOW);
}

TEST_CASE("robust semaphore: a killed holder's permits come back to a sleeping waiter") {
  Segment seg = segment(8192);
  auto* base = static_cast<uint8_t*>(seg.data());
  Semaphore::init(base, 3, true);
  auto* flag = reinterpret_cast<std::atomic<int>*>(base + 4096);
  pid_t holder = forkHolder(flag, [&] {
    Semaphore s(base);
    return s.tryAcquire() == Outcome::Acquired && s.tryAcquire() == Outcome::Acquired;
  });
  Semaphore s(base);
  CHECK(s.robust());
  CHECK(s.release().error().code == EPERM);  // holds none
  CHECK(s.tryAcquire() == Outcome::Acquired);
  CHECK(s.value() == 0);
  pid_t killer = killLater(holder, 50'000);
  auto r = s.acquire(in(10 * kSec));  // sleeping: woken by the kernel at the holder's death
  CHECK(r.ok() && r.value() == Outcome::Acquired);
  CHECK(s.held() == 2);
  CHECK(s.value() == 1);
  CHECK(s.release(2).ok());
  CHECK(s.value() == 3);
  CHECK(s.held() == 0);
  waitChild(killer);
  waitChild(holder);
}

TEST_CASE("condition: producer/consumer across processes") {
  Segment seg = segment(4096);
  auto* base = static_cast<uint8_t*>(seg.data());
  Mutex::init(base);
  Condition::init(base + 64);
  auto* items = reinterpret_cast<volatile int*>(base + 256);
  auto* consumed = reinterpret_cast<volatile int*>(base + 260);
  constexpr int kItems = 2000;
  pid_t consumer = fork();
  if (consumer == 0) {
    Mutex m(base);
    Condition c(base + 64);
    int got = 0;
    while (got < kItems) {
      m.lock(std::nullopt);
      while (*items == 0) {
        Outcome relock;
        c.wait(m, in(5 * kSec), &relock);
      }
      got += *items;
      *items = 0;
      *consumed = got;
      c.notify(INT32_MAX);
      m.unlock();
    }
    _exit(got == kItems ? 0 : 1);
  }
  Mutex m(base);
  Condition c(base + 64);
  for (int i = 0; i < kItems; ++i) {
    m.lock(std::nullopt);
    while (*items != 0) {
      Outcome relock;
      c.wait(m, in(5 * kSec), &relock);
    }
    *items = 1;
    c.notify(1);
    m.unlock();
  }
  CHECK(waitChild(consumer) == 0);
  CHECK(*consumed == kItems);
}

TEST_CASE("barrier: generations across processes; a killed party breaks it") {
  constexpr uint32_t kParties = 3;
  Segment seg = segment(4096);
  auto* base = static_cast<uint8_t*>(seg.data());
  Barrier::init(base, kParties);
  auto* phase = reinterpret_cast<std::atomic<int>*>(base + 1024);  // per-party phase counters
  auto statuses = forkEach(kParties, [&](int k) {
    Barrier b(base);
    for (int g = 0; g < 500; ++g) {
      phase[k].store(g);
      auto r = b.wait(in(10 * kSec));
      if (!r || r.value() != Outcome::Acquired) return 1;
      for (uint32_t j = 0; j < kParties; ++j) {
        if (phase[j].load() < g) return 3;  // someone passed before everyone arrived
      }
    }
    b.leave();
    return 0;
  });
  for (int st : statuses) CHECK(st == 0);

  Barrier::init(base, kParties);
  pid_t waiter = fork();
  if (waiter == 0) {
    Barrier b(base);
    auto r = b.wait(in(10 * kSec));  // must break when the victim dies, not time out
    _exit(r.ok() && r.value() == Outcome::Broken ? 0 : 1);
  }
  usleep(50'000);  // the waiter sleeps before the victim joins: it must still watch the victim
  pid_t victim = fork();
  if (victim == 0) {
    Barrier b(base);
    b.wait(std::nullopt);  // waits for the others, which never come all
    _exit(0);
  }
  usleep(100'000);
  kill(victim, SIGKILL);
  CHECK(waitChild(waiter) == 0);
  waitChild(victim);
  Barrier b(base);
  auto again = b.wait(in(kSec));
  CHECK(again.ok() && again.value() == Outcome::Broken);
}

TEST_CASE("rwlock: invariant under load, a dead reader does not block writers") {
  Segment seg = segment(8192);
  auto* base = static_cast<uint8_t*>(seg.data());
  RwLock::init(base);
  auto* readers = reinterpret_cast<std::atomic<int>*>(base + 4096);
  auto* writers = reinterpret_cast<std::atomic<int>*>(base + 4100);
  auto* bad = reinterpret_cast<std::atomic<int>*>(base + 4104);
  auto statuses = forkEach(4, [&](int k) {
    RwLock l(base);
    for (int i = 0; i < 3000; ++i) {
      if ((i + k) % 4 == 0) {
        auto r = l.lockWrite(std::nullopt);
        if (!r || r.value() != Outcome::Acquired) return 1;
        if (writers->fetch_add(1) != 0 || readers->load() != 0) bad->fetch_add(1);
        writers->fetch_sub(1);
        l.unlockWrite();
      } else {
        auto r = l.lockRead(std::nullopt);
        if (!r || r.value() != Outcome::Acquired) return 2;
        readers->fetch_add(1);
        if (writers->load() != 0) bad->fetch_add(1);
        readers->fetch_sub(1);
        l.unlockRead();
      }
    }
    return 0;
  });
  for (int st : statuses) CHECK(st == 0);
  CHECK(bad->load() == 0);

  auto* flag = reinterpret_cast<std::atomic<int>*>(base + 4108);
  pid_t reader = forkHolder(flag, [&] {
    auto r = RwLock(base).lockRead(std::nullopt);
    return r.ok() && r.value() == Outcome::Acquired;
  });
  RwLock l(base);
  CHECK(l.tryWrite() == Outcome::Busy);
  pid_t killer = killLater(reader, 50'000);
  auto w = l.lockWrite(in(10 * kSec));
  CHECK(w.ok() && w.value() == Outcome::Acquired);
  CHECK(l.unlockWrite().ok());
  waitChild(killer);
  waitChild(reader);

  // a dead writer: readers get OwnerDeadNoLock, the next writer OwnerDead
  pid_t writer = forkHolder(flag, [&] {
    auto r = RwLock(base).lockWrite(std::nullopt);
    return r.ok() && r.value() == Outcome::Acquired;
  });
  kill(writer, SIGKILL);
  waitChild(writer);
  CHECK(l.tryRead() == Outcome::OwnerDeadNoLock);
  CHECK(l.tryWrite() == Outcome::OwnerDead);
  CHECK(l.markConsistent().ok());
  CHECK(l.unlockWrite().ok());
  CHECK(l.tryRead() == Outcome::Acquired);
  CHECK(l.tryRead() == Outcome::Acquired);  // recursive
  CHECK(l.unlockRead().ok());
  CHECK(l.unlockRead().ok());
  CHECK(l.unlockRead().error().code == EPERM);
}

TEST_CASE("views (interproc inspect): holders, dead holders, parties and readers as the words say") {
  Segment seg = segment(16384);
  auto* base = static_cast<uint8_t*>(seg.data());
  auto* flag = reinterpret_cast<std::atomic<int>*>(base + 16000);
  uint8_t* mutexAt = base;
  uint8_t* rwAt = base + 64;                     // 2112 bytes
  uint8_t* semAt = base + 64 + 2112;             // robust: 2112 bytes
  uint8_t* barAt = base + 64 + 2 * 2112;         // 3 parties: 256 bytes
  uint8_t* condAt = base + 64 + 2 * 2112 + 256;  // 64 bytes
  Mutex::init(mutexAt);
  RwLock::init(rwAt);
  Semaphore::init(semAt, 3, true);
  Barrier::init(barAt, 3);
  Condition::init(condAt);
  CHECK(Mutex(mutexAt).view().lock.tid == 0 && Mutex(mutexAt).view().consistent);
  pid_t holder = forkHolder(flag, [&] {
    Barrier b(barAt);
    auto a = b.arrive();  // takes a party slot, then waits (1 of 3)
    return Mutex(mutexAt).tryLock() == Outcome::Acquired && RwLock(rwAt).tryRead() == Outcome::Acquired &&
           Semaphore(semAt, true).tryAcquire() == Outcome::Acquired && a.ok();
  });
  Mutex::View mv = Mutex(mutexAt).view();
  CHECK(mv.lock.tid == static_cast<uint32_t>(holder) && !mv.lock.ownerDied && mv.consistent && !mv.notRecoverable);
  RwLock::View rv = RwLock(rwAt).view();
  CHECK(rv.writer.tid == 0 && rv.readers.size() == RwLock::kReaders);
  int readers = 0;
  for (const auto& r : rv.readers) readers += r.tid == static_cast<uint32_t>(holder) && r.aux == 1;
  CHECK(readers == 1);
  Semaphore::View sv = Semaphore(semAt, true).view();
  CHECK(sv.value == 2 && sv.holders.size() == Semaphore::kHolders);
  int holders = 0;
  for (const auto& h : sv.holders) holders += h.tid == static_cast<uint32_t>(holder) && h.aux == 1;
  CHECK(holders == 1);
  Barrier::View bv = Barrier(barAt).view();
  CHECK(bv.arrived == 1 && bv.parties.size() == 3 && bv.parties[0].tid == static_cast<uint32_t>(holder));
  CHECK(Condition(condAt).sleepers() == 0);
  kill(holder, SIGKILL);
  waitChild(holder);
  // The kernel marked every word the holder had: no tid, owner-died.
  mv = Mutex(mutexAt).view();
  CHECK(mv.lock.tid == 0 && mv.lock.ownerDied);
  bv = Barrier(barAt).view();
  CHECK(bv.parties[0].tid == 0 && bv.parties[0].ownerDied);
  // Taken as owner-dead and unlocked without repair: not recoverable.
  Mutex m(mutexAt);
  CHECK(m.tryLock() == Outcome::OwnerDead);
  CHECK(m.unlock().ok());
  mv = m.view();
  CHECK(mv.notRecoverable && mv.lock.tid == 0 && !mv.consistent);
}

TEST_CASE("abandonRange marks held words owner-dead as the kernel would") {
  Segment seg = segment(4096);
  auto* base = static_cast<uint8_t*>(seg.data());
  Mutex::init(base);
  Mutex m(base);
  CHECK(m.tryLock() == Outcome::Acquired);
  CHECK(robust::abandonRange(base, 4096) == 1);
  std::thread t([&] {
    CHECK(m.tryLock() == Outcome::OwnerDead);
    CHECK(m.markConsistent().ok());
    CHECK(m.unlock().ok());
  });
  t.join();
}

TEST_CASE("robust list: links overwritten in shared memory are never followed") {
  Segment a = segment(4096), b = segment(4096);
  auto* pa = static_cast<uint8_t*>(a.data());
  auto* pb = static_cast<uint8_t*>(b.data());
  Mutex::init(pa);
  Mutex::init(pb);
  Mutex ma(pa), mb(pb);
  CHECK(ma.tryLock() == Outcome::Acquired);
  CHECK(mb.tryLock() == Outcome::Acquired);
  std::memset(pa, 0x41, 4096);  // a's word and its prev/next: wild pointers
  CHECK(mb.unlock().ok());
  CHECK(mb.tryLock() == Outcome::Acquired);
  CHECK(robust::abandonRange(pa, 4096) == 1);  // listed, overwritten: dropped, nothing released
  CHECK(robust::abandonRange(pb, 4096) == 1);
  std::thread t([&] { CHECK(mb.tryLock() == Outcome::OwnerDead); });
  t.join();
}

TEST_CASE("robust list: a word whose mapping went without abandonRange is dropped, never written") {
  Segment b = segment(4096);
  auto* pb = static_cast<uint8_t*>(b.data());
  Mutex::init(pb);
  Mutex mb(pb);
  void* gone = nullptr;
  {
    Segment a = segment(4096);
    gone = a.data();
    Mutex::init(gone);
    CHECK(Mutex(gone).tryLock() == Outcome::Acquired);
  }  // unmapped while held, without abandonRange: the caller's bug this guards against
  // Something else is mapped at the old address now, as mmap's reuse of addresses does.
  void* other = mmap(gone, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  CHECK(other == gone);
  if (other != gone) return;
  std::memset(other, 0x5a, 4096);
  size_t before = robust::strays();
  CHECK(mb.tryLock() == Outcome::Acquired);  // relinks the chain: must not write the stale word's links
  CHECK(mb.unlock().ok());
  auto* bytes = static_cast<uint8_t*>(other);
  bool intact = true;
  for (int i = 0; i < 4096; ++i) intact = intact && bytes[i] == 0x5a;
  CHECK(intact);
  CHECK(robust::strays() == before + 1);
  munmap(other, 4096);
  CHECK(mb.tryLock() == Outcome::Acquired);
  CHECK(robust::abandonRange(pb, 4096) == 1);
}

TEST_CASE("robust list: shared with glibc's robust mutexes, both survive a thread's death") {
  Segment seg = segment(4096);
  auto* base = static_cast<uint8_t*>(seg.data());
  Mutex::init(base);
  Mutex::init(base + 64);
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_t g1, g2;
  pthread_mutex_init(&g1, &attr);
  pthread_mutex_init(&g2, &attr);
  Mutex m1(base), m2(base + 64);
  std::thread t([&] {
    // Interleaved: glibc inserts at the head, unlinks by its own links; ours are relinked around it.
    CHECK(m1.tryLock() == Outcome::Acquired);
    CHECK(pthread_mutex_lock(&g1) == 0);
    CHECK(m2.tryLock() == Outcome::Acquired);
    CHECK(pthread_mutex_lock(&g2) == 0);
    CHECK(m1.unlock().ok());
    CHECK(pthread_mutex_unlock(&g1) == 0);
    CHECK(m1.tryLock() == Outcome::Acquired);
    // The thread ends holding m1, m2 and g2: the kernel's walk must reach all three.
  });
  t.join();
  CHECK(m1.tryLock() == Outcome::OwnerDead);
  CHECK(m2.tryLock() == Outcome::OwnerDead);
  CHECK(pthread_mutex_lock(&g1) == 0);  // in the thread's order (g1, then g2): no lock-order inversion for TSan
  CHECK(pthread_mutex_lock(&g2) == EOWNERDEAD);
  pthread_mutex_consistent(&g2);
  pthread_mutex_unlock(&g2);
  pthread_mutex_unlock(&g1);
  CHECK(m1.markConsistent().ok());
  CHECK(m1.unlock().ok());
  CHECK(m2.markConsistent().ok());
  CHECK(m2.unlock().ok());
}

TEST_CASE("threads (for TSan): mutex, semaphore and rwlock keep their invariants") {
  alignas(64) static uint8_t mem[Mutex::kSize + Semaphore::kSize + RwLock::kSize];
  Mutex::init(mem);
  Semaphore::init(mem + 64, 1);
  RwLock::init(mem + 128);
  uint64_t plain = 0;
  uint64_t plain2 = 0;
  uint64_t plain3 = 0;
  std::vector<std::thread> ts;
  for (int k = 0; k < 4; ++k) {
    ts.emplace_back([&, k] {
      Mutex m(mem);
      Semaphore s(mem + 64);
      RwLock l(mem + 128);
      for (int i = 0; i < 5000; ++i) {
        m.lock(std::nullopt);
        ++plain;
        m.unlock();
        s.acquire(std::nullopt);
        ++plain2;
        s.release();
        if ((i + k) % 3 == 0) {
          l.lockWrite(std::nullopt);
          ++plain3;
          l.unlockWrite();
        } else {
          l.lockRead(std::nullopt);
          volatile uint64_t x = plain3;
          (void)x;
          l.unlockRead();
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  CHECK(plain == 20000);
  CHECK(plain2 == 20000);
}

TEST_CASE("threads (for TSan): robust semaphore permits stay bounded") {
  alignas(64) static uint8_t mem[Semaphore::kRobustSize];
  Semaphore::init(mem, 2, true);
  std::atomic<int> inside{0}, maxInside{0};
  std::vector<std::thread> ts;
  for (int k = 0; k < 4; ++k) {
    ts.emplace_back([&] {
      Semaphore s(mem);
      for (int i = 0; i < 3000; ++i) {
        s.acquire(std::nullopt);
        int n = inside.fetch_add(1) + 1;
        int m = maxInside.load();
        while (n > m && !maxInside.compare_exchange_weak(m, n)) {}
        inside.fetch_sub(1);
        s.release();
      }
    });
  }
  for (auto& t : ts) t.join();
  CHECK(maxInside.load() <= 2);
  CHECK(Semaphore(mem).value() == 2);
}

TEST_MAIN()
