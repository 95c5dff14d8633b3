// C++ tests of the core futex: outcomes, and wake-ups across forked processes.
#include "core/shm/futex.hpp"

#include <atomic>
#include <climits>
#include <thread>

#include "../check.hpp"
#include "core/shm/shared_memory.hpp"

using namespace interproc;

TEST_CASE("not-equal and timed-out") {
  uint32_t word = 5;
  auto ne = futex::wait(&word, 4, 1'000'000);
  CHECK(ne.ok() && ne.value() == futex::WaitOutcome::NotEqual);
  auto to = futex::wait(&word, 5, 2'000'000);
  CHECK(to.ok() && to.value() == futex::WaitOutcome::TimedOut);
  auto z = futex::wait(&word, 5, 0);
  CHECK(z.ok() && z.value() == futex::WaitOutcome::TimedOut);
}

TEST_CASE("a forked process wakes a sleeper, both ways") {
  auto seg = Segment::anonymous(4096);
  CHECK(seg.ok());
  if (!seg) return;
  auto* words = static_cast<std::atomic<uint32_t>*>(seg.value().data());
  // Child sleeps on words[0]; parent wakes it. Then parent sleeps on words[1]; child wakes it.
  int status = 0;
  pid_t pid = fork();
  if (pid == 0) {
    auto r = futex::wait(reinterpret_cast<uint32_t*>(&words[0]), 0, 5'000'000'000);
    if (!r || r.value() != futex::WaitOutcome::Ok) _exit(1);
    words[1].store(1);
    auto w = futex::wake(reinterpret_cast<uint32_t*>(&words[1]), INT_MAX);
    _exit(w.ok() ? 0 : 2);
  }
  int woken = 0;
  for (int i = 0; i < 5000 && woken == 0; ++i) {  // retry until the child is asleep
    usleep(1000);
    words[0].store(1);
    auto w = futex::wake(reinterpret_cast<uint32_t*>(&words[0]), 1);
    woken = w.ok() ? w.value() : -1;
    if (woken == 0) words[0].store(0);
  }
  CHECK(woken == 1);
  while (words[1].load() == 0) futex::wait(reinterpret_cast<uint32_t*>(&words[1]), 0, 100'000'000);
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_CASE("wake with no waiters returns 0") {
  uint32_t word = 0;
  auto w = futex::wake(&word, INT_MAX);
  CHECK(w.ok() && w.value() == 0);
}

TEST_CASE("waitOrCancel: outcomes, and a cancel from another thread is never lost") {
  uint32_t word = 3, cancel = 0;
  auto ne = futex::waitOrCancel(&word, 2, &cancel, 1'000'000);
  CHECK(ne.ok() && ne.value() == futex::CancellableOutcome::NotEqual);
  auto to = futex::waitOrCancel(&word, 3, &cancel, 2'000'000);
  CHECK(to.ok() && to.value() == futex::CancellableOutcome::TimedOut);
  // Cancel before the wait starts: returns Cancelled at once, not after the timeout.
  futex::cancelWait(&cancel);
  auto pre = futex::waitOrCancel(&word, 3, &cancel, 10'000'000'000);
  CHECK(pre.ok() && pre.value() == futex::CancellableOutcome::Cancelled);
  // Cancel while asleep, from another thread, many times in a row (races with going to sleep).
  for (int i = 0; i < 200; ++i) {
    uint32_t c = 0;
    std::thread t([&] { futex::cancelWait(&c); });
    auto r = futex::waitOrCancel(&word, 3, &c, 10'000'000'000);
    t.join();
    CHECK(r.ok() && r.value() == futex::CancellableOutcome::Cancelled);
  }
}

TEST_CASE("waitOrCancel is woken by a plain wake of the shared word") {
  auto seg = Segment::anonymous(4096);
  CHECK(seg.ok());
  if (!seg) return;
  auto* w = static_cast<uint32_t*>(seg.value().data());
  uint32_t cancel = 0;
  pid_t pid = fork();
  if (pid == 0) {
    for (int i = 0; i < 5000; ++i) {
      usleep(1000);
      auto n = futex::wake(w, 1);
      if (n.ok() && n.value() == 1) _exit(0);
    }
    _exit(1);
  }
  auto r = futex::waitOrCancel(w, 0, &cancel, 10'000'000'000);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(r.ok() && r.value() == futex::CancellableOutcome::Ok);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_MAIN()
