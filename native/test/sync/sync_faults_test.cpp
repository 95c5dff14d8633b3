// C++ tests of the core synchronisation primitives under faults: a death whose one kernel wake-up
// lands on a sleeper that takes nothing (it must pass the wake-up on), a hostile process rewriting a
// header during a wait (never an access outside the object), and a sleep that a poll can end (a
// worker thread being terminated).
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "../check.hpp"
#include "core/shm/futex.hpp"
#include "core/sync/barrier.hpp"
#include "core/sync/condition.hpp"
#include "core/sync/mutex.hpp"
#include "core/sync/rwlock.hpp"
#include "core/sync/semaphore.hpp"

using namespace interproc;

namespace {
constexpr int64_t kSec = 1'000'000'000;
Deadline in(int64_t ns) { return deadlineAfter(ns); }

int waitChild(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Shared memory of `pages` pages followed by one PROT_NONE page: a read past the end faults for sure.
uint8_t* guardedPages(size_t pages) {
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* p = mmap(nullptr, (pages + 1) * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) std::abort();
  mprotect(static_cast<uint8_t*>(p) + pages * page, page, PROT_NONE);
  return static_cast<uint8_t*>(p);
}

// Until thread `tid` of this process sleeps (state S in /proc), so the order of sleepers is known.
void untilAsleep(pid_t tid) {
  std::string path = "/proc/self/task/" + std::to_string(tid) + "/stat";
  for (int i = 0; i < 20000; ++i) {
    std::ifstream f(path);
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    size_t close = all.rfind(')');
    if (close != std::string::npos && close + 2 < all.size() && all[close + 2] == 'S') {
      usleep(2'000);
      return;
    }
    usleep(500);
  }
}

// Waits until *done is set, for at most `seconds`; then cancels `c` (a hang shows as Cancelled, not as
// a timeout whose last attempt could hide it).
void cancelUnless(std::atomic<int>* done, Canceller* c, int seconds) {
  for (int i = 0; i < seconds * 1000 && done->load() < 0; ++i) usleep(1000);
  if (done->load() < 0) c->cancel();
}

// A child that takes what take() takes (in a forked process), reports it in *flag, and sleeps.
template <typename Take>
pid_t forkHolder(std::atomic<int>* flag, Take take) {
  flag->store(0);
  pid_t pid = fork();
  if (pid == 0) {
    if (!take()) _exit(1);
    flag->store(1);
    for (;;) pause();
  }
  while (flag->load() == 0) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) std::abort();
    usleep(100);
  }
  return pid;
}
}  // namespace

TEST_CASE("rwlock: a dead writer's one wake-up reaches a reader first; the sleeping writer still gets in") {
  constexpr int kRounds = 20;
  auto* base = guardedPages(1);
  auto* flag = reinterpret_cast<std::atomic<int>*>(base + 3072);
  int writerIn = 0;
  for (int round = 0; round < kRounds; ++round) {
    RwLock::init(base);
    pid_t holder = forkHolder(flag, [&] { return RwLock(base).tryWrite() == Outcome::Acquired; });
    std::atomic<pid_t> readerTid{0}, writerTid{0};
    std::atomic<int> readOutcome{-1}, writeOutcome{-1};
    std::thread reader([&] {
      readerTid = gettid();
      auto r = RwLock(base).lockRead(in(20 * kSec));
      readOutcome = r ? static_cast<int>(r.value()) : -2;
      if (r && r.value() == Outcome::Acquired) RwLock(base).unlockRead();
    });
    while (readerTid == 0) usleep(100);
    untilAsleep(readerTid);  // the reader sleeps first, so the kernel's one wake-up goes to it
    Canceller stuck;
    std::thread writer([&] {
      writerTid = gettid();
      RwLock l(base);
      auto r = l.lockWrite(std::nullopt, &stuck);
      writeOutcome = r ? static_cast<int>(r.value()) : -2;
      if (r && r.value() == Outcome::OwnerDead) {
        l.markConsistent();
        l.unlockWrite();
      }
    });
    while (writerTid == 0) usleep(100);
    untilAsleep(writerTid);
    kill(holder, SIGKILL);
    waitChild(holder);
    cancelUnless(&writeOutcome, &stuck, 10);
    reader.join();
    writer.join();
    CHECK(readOutcome == static_cast<int>(Outcome::OwnerDeadNoLock) ||
          readOutcome == static_cast<int>(Outcome::Acquired));
    if (writeOutcome == static_cast<int>(Outcome::OwnerDead)) ++writerIn;
  }
  std::printf("rwlock wake pass-on: %d of %d rounds writer acquired\n", writerIn, kRounds);
  CHECK(writerIn == kRounds);
}

TEST_CASE("rwlock: a dead reader's slot reclaimed by a reader wakes the writer sleeping on it") {
  // All reader slots but one are held by threads of this process, the last by a child; a reader
  // sleeps for a slot, then a writer takes the writer word and sleeps on the slots. The child dies:
  // whoever reclaims its slot must wake the others sleeping on it.
  auto* base = guardedPages(1);
  RwLock::init(base);
  auto* flag = reinterpret_cast<std::atomic<int>*>(base + 3072);
  std::atomic<int> release{0};
  std::vector<std::thread> holders;
  std::atomic<int> holding{0};
  for (uint32_t i = 0; i + 1 < RwLock::kReaders; ++i) {
    holders.emplace_back([&] {
      RwLock l(base);
      if (l.tryRead() == Outcome::Acquired) holding++;
      while (release.load() == 0) usleep(1000);
      l.unlockRead();
    });
  }
  while (holding.load() + 1 < static_cast<int>(RwLock::kReaders)) usleep(100);
  pid_t child = forkHolder(flag, [&] { return RwLock(base).tryRead() == Outcome::Acquired; });
  RwLock l(base);
  CHECK(l.readers() == RwLock::kReaders);
  std::atomic<int> writeOutcome{-1};
  std::atomic<pid_t> writerTid{0};
  Canceller stuck;
  std::thread writer([&] {
    writerTid = gettid();
    auto r = RwLock(base).lockWrite(std::nullopt, &stuck);
    writeOutcome = r ? static_cast<int>(r.value()) : -2;
    if (r && r.value() == Outcome::Acquired) RwLock(base).unlockWrite();
  });
  while (writerTid == 0) usleep(100);
  untilAsleep(writerTid);
  release = 1;  // the threads' slots go; the child's stays: the writer sleeps on it alone
  for (auto& t : holders) t.join();
  usleep(20'000);
  kill(child, SIGKILL);
  waitChild(child);
  cancelUnless(&writeOutcome, &stuck, 10);
  writer.join();
  CHECK(writeOutcome == static_cast<int>(Outcome::Acquired));
  CHECK(l.readers() == 0);
}

TEST_CASE("semaphore: a header flipped to robust during a wait is detected, never read past the object") {
  constexpr int kRounds = 10;
  int detected = 0;
  for (int round = 0; round < kRounds; ++round) {
    auto* page = guardedPages(1);
    uint8_t* mem = page + 4096 - Semaphore::kSize;  // the last 64 bytes before the guard page
    Semaphore::init(mem, 0, false);
    int st = check::inChild([&] {
      std::thread hostile([&] {
        usleep(20'000);
        // Atomic, as another process's write would be to this process (and as the library reads it).
        std::atomic_ref<uint8_t>(reinterpret_cast<SyncHeader*>(mem)->flags).fetch_or(Semaphore::kRobustFlag);
        auto* value = reinterpret_cast<std::atomic<uint32_t>*>(mem + 16);
        value->store(1);
        futex::wake(reinterpret_cast<uint32_t*>(value), INT_MAX);
      });
      auto r = Semaphore(mem, false).acquire(in(10 * kSec));
      hostile.join();
      return r && r.value() == Outcome::LayoutChanged ? 0 : 1;
    });
    if (st == 0) ++detected;
    munmap(page, 8192);
  }
  std::printf("semaphore header flip: %d of %d rounds detected (no fault)\n", detected, kRounds);
  CHECK(detected == kRounds);
}

TEST_CASE("barrier: parties rewritten during a wait are detected, never read past the object") {
  constexpr int kRounds = 10;
  int detected = 0;
  for (int round = 0; round < kRounds; ++round) {
    auto* page = guardedPages(1);
    uint8_t* mem = page + 4096 - Barrier::byteLength(2);
    Barrier::init(mem, 2);
    int st = check::inChild([&] {
      std::thread hostile([&] {
        usleep(20'000);
        std::atomic_ref<uint32_t>(reinterpret_cast<SyncHeader*>(mem)->param).store(Barrier::kMaxParties);
        auto* generation = reinterpret_cast<uint32_t*>(mem + 20);
        futex::wake(generation, INT_MAX);
      });
      auto r = Barrier(mem, 2).wait(in(10 * kSec));
      hostile.join();
      return r && r.value() == Outcome::LayoutChanged ? 0 : 1;
    });
    if (st == 0) ++detected;
    munmap(page, 8192);
  }
  std::printf("barrier parties rewrite: %d of %d rounds detected (no fault)\n", detected, kRounds);
  CHECK(detected == kRounds);
}

TEST_CASE("a stop poll ends every blocking wait as Terminating, and the wait gives up cleanly") {
  alignas(64) static uint8_t
      mem[Mutex::kSize + Semaphore::kRobustSize + Condition::kSize + Barrier::byteLength(2) + RwLock::kSize];
  uint8_t* p = mem;
  uint8_t* mm = p;
  Mutex::init(mm);
  uint8_t* sm = p += Mutex::kSize;
  Semaphore::init(sm, 0, true);
  uint8_t* cm = p += Semaphore::kRobustSize;
  Condition::init(cm);
  uint8_t* bm = p += Condition::kSize;
  Barrier::init(bm, 2);
  uint8_t* rm = p += Barrier::byteLength(2);
  RwLock::init(rm);
  CHECK(Mutex(mm).tryLock() == Outcome::Acquired);
  CHECK(RwLock(rm).tryWrite() == Outcome::Acquired);
  std::atomic<int> stop{0};
  StopPoll poll{5'000'000, [](void* ctx) { return static_cast<std::atomic<int>*>(ctx)->load() != 0; }, &stop};
  auto run = [&](auto&& wait) {
    std::atomic<int> out{-1};
    std::thread t([&] {
      auto r = wait();
      out = r ? static_cast<int>(r.value()) : -2;
    });
    usleep(30'000);
    CHECK(out == -1);  // still waiting before the stop
    stop = 1;
    t.join();
    stop = 0;
    return out.load();
  };
  constexpr int kTerm = static_cast<int>(Outcome::Terminating);
  CHECK(run([&] {
          Mutex m(mm);
          Mutex::LockOp op(m);
          return acquireBlocking(op, std::nullopt, nullptr, &poll);
        }) == kTerm);
  CHECK(run([&] {
          Semaphore::AcquireOp op{Semaphore(sm)};
          return acquireBlocking(op, std::nullopt, nullptr, &poll);
        }) == kTerm);
  CHECK(run([&] {
          Condition::WaitOp op{Condition{cm}, Condition{cm}.sequence()};
          return acquireBlocking(op, std::nullopt, nullptr, &poll);
        }) == kTerm);
  CHECK(run([&] {
          Barrier b(bm);
          auto a = b.arrive();
          Barrier::PassOp op(b, a.value().generation);
          return acquireBlocking(op, std::nullopt, nullptr, &poll);
        }) == kTerm);
  CHECK(Barrier(bm).broken());  // a party that stops waiting breaks it, as a timeout does
  CHECK(run([&] {
          RwLock::WriteOp op{RwLock(rm)};
          return acquireBlocking(op, std::nullopt, nullptr, &poll);
        }) == kTerm);
  CHECK(run([&] {
          RwLock::ReadOp op{RwLock(rm)};
          return acquireBlocking(op, std::nullopt, nullptr, &poll);
        }) == kTerm);
  // a deadline shorter than a slice is still a timeout
  auto t = Mutex(mm).lock(in(1'000'000));
  CHECK(t.ok());
  std::thread other([&] {
    Mutex::LockOp op{Mutex(mm)};
    auto r = acquireBlocking(op, in(20'000'000), nullptr, &poll);
    CHECK(r.ok() && r.value() == Outcome::TimedOut);
  });
  other.join();
  CHECK(Mutex(mm).unlock().ok());
  CHECK(RwLock(rm).unlockWrite().ok());
}

TEST_CASE("condition: a waiter cancelled after a notify(1) reached it passes that wake-up on") {
  alignas(64) static uint8_t mem[Condition::kSize];
  Condition::init(mem);
  Condition c(mem);
  constexpr int kRounds = 50;
  int passed = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<int> second{-1};
    std::atomic<pid_t> firstTid{0}, secondTid{0};
    Canceller cancelFirst, stuck;
    uint32_t seen = c.sequence();
    std::thread first([&] {
      firstTid = gettid();
      Condition::WaitOp op(c, seen);
      // Sleeps, is woken by the notify, and is cancelled before it looks: its giveUp must pass it on.
      WaitSet ws;
      CHECK(op.attempt(false) == Outcome::Busy);
      CHECK(op.prepare(ws));
      ws.wait(std::nullopt, nullptr);
      op.afterWait();
      op.giveUp();
    });
    while (firstTid == 0) usleep(100);
    untilAsleep(firstTid);
    std::thread waiter([&] {
      secondTid = gettid();
      Condition::WaitOp op(c, seen);
      auto r = acquireBlocking(op, std::nullopt, &stuck);
      second = r ? static_cast<int>(r.value()) : -2;
    });
    while (secondTid == 0) usleep(100);
    untilAsleep(secondTid);
    c.notify(1);  // reaches the first sleeper only
    first.join();
    cancelUnless(&second, &stuck, 5);
    waiter.join();
    if (second == static_cast<int>(Outcome::Acquired)) ++passed;
  }
  std::printf("condition notify pass-on: %d of %d rounds the second waiter woke\n", passed, kRounds);
  CHECK(passed == kRounds);
}

TEST_CASE("mutex and rwlock: abandon gives a lock back as owner-dead") {
  alignas(64) static uint8_t mem[Mutex::kSize + RwLock::kSize];
  Mutex::init(mem);
  RwLock::init(mem + Mutex::kSize);
  Mutex m(mem);
  RwLock l(mem + Mutex::kSize);
  CHECK(m.tryLock() == Outcome::Acquired);
  CHECK(m.abandon().ok());
  CHECK(m.abandon().error().code == EPERM);
  CHECK(l.tryWrite() == Outcome::Acquired);
  CHECK(l.abandonWrite().ok());
  std::thread t([&] {
    CHECK(m.tryLock() == Outcome::OwnerDead);
    CHECK(m.markConsistent().ok());
    CHECK(m.unlock().ok());
    CHECK(l.tryRead() == Outcome::OwnerDeadNoLock);
    CHECK(l.tryWrite() == Outcome::OwnerDead);
    CHECK(l.markConsistent().ok());
    CHECK(l.unlockWrite().ok());
  });
  t.join();
}

TEST_MAIN()
