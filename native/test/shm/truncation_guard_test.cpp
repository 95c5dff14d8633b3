// C++ tests of the truncation guard (core/shm/truncation_guard.hpp): a truncate under a mapping of the
// library is survived (fault repaired, mark set, sleepers woken), a SIGBUS of anything else keeps its
// previous disposition. Each case runs in a forked child, so a death by SIGBUS is an outcome to check.
#include "core/shm/truncation_guard.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "../check.hpp"
#include "core/shm/futex.hpp"
#include "core/shm/shared_memory.hpp"
#include "core/sync/mutex.hpp"
#include "core/sync/robust_list.hpp"
#include "core/sync/wait_set.hpp"

using namespace interproc;

namespace {

constexpr size_t kPage = 4096;
constexpr int kDiedBySigbus = 128 + SIGBUS;

std::string testName(const char* tag) {
  return "/interproc-ctest-trunc-" + std::string(tag) + "-" + std::to_string(getpid());
}

// A named segment of `pages` pages filled with 7, and its name (unlinked by the caller's Unlink).
Segment filled(const std::string& name, size_t pages) {
  SegmentOptions o;
  o.size = pages * kPage;
  auto r = Segment::open(name, CreateMode::Exclusive, o);
  if (!r) _exit(90);
  std::memset(r.value().data(), 7, o.size);
  return std::move(r.value());
}

struct Unlink {
  std::string name;
  ~Unlink() { Segment::unlink(name); }
};

// ftruncate through a descriptor of its own, as another process would.
void truncateTo(const std::string& name, off_t size) {
  int fd = shm_open(name.c_str(), O_RDWR, 0);
  if (fd < 0 || ftruncate(fd, size) != 0) _exit(91);
  close(fd);
}

volatile uint8_t sink;

// The disposition the library finds when it installs its handler, made the default one: a sanitizer
// runtime (ASan's handle_sigbus) installs its own reporter at start, and the library rightly passes a
// foreign SIGBUS on to that one, which reports and aborts instead of dying by SIGBUS.
void defaultSigbus() { signal(SIGBUS, SIG_DFL); }

}  // namespace

TEST_CASE("a read past the new end is repaired: zeros, the mark is set, the kept pages still share") {
  int st = check::inChild([] {
    std::string name = testName("read");
    Unlink u{name};
    Segment seg = filled(name, 8);
    auto* p = static_cast<volatile uint8_t*>(seg.data());
    if (seg.truncated() || seg.guardSlot() < 0) return 1;
    truncateTo(name, 2 * kPage);
    if (p[7 * kPage] != 0) return 2;  // faults (or the watcher was first), then reads zeros
    if (!seg.truncated()) return 3;
    if (p[0] != 7 || p[2 * kPage - 1] != 7) return 4;  // pages that stayed are untouched
    p[5 * kPage] = 3;                                  // writable private zero page
    if (p[5 * kPage] != 3) return 5;
    if (!truncation::handlerInstalled()) return 6;
    return 0;
  });
  CHECK(st == 0);
}

TEST_CASE("checkTruncated sees a shrink at once (fstat), before anything faults") {
  int st = check::inChild([] {
    std::string name = testName("check");
    Unlink u{name};
    Segment seg = filled(name, 4);
    if (seg.checkTruncated()) return 1;
    truncateTo(name, 0);
    if (!seg.checkTruncated() || !seg.truncated()) return 2;
    if (static_cast<volatile uint8_t*>(seg.data())[0] != 0) return 3;
    // A shrink inside the last page loses no page but is a truncate all the same.
    std::string name2 = testName("check2");
    Unlink u2{name2};
    Segment seg2 = filled(name2, 2);
    truncateTo(name2, 2 * kPage - 100);
    return seg2.checkTruncated() ? 0 : 4;
  });
  CHECK(st == 0);
}

TEST_CASE("a futex sleeper on the segment is woken by the truncate (the watcher), in wait and WaitSet") {
  int st = check::inChild([] {
    std::string name = testName("sleep");
    Unlink u{name};
    Segment seg = filled(name, 4);
    auto* words = static_cast<uint32_t*>(seg.data());
    words[0] = 0;
    words[3 * kPage / 4] = 0;
    std::atomic<int> ended{0};
    std::thread a([&] {
      auto r = futex::wait(&words[0], 0, 20'000'000'000);
      if (r && r.value() == futex::WaitOutcome::Ok) ended++;
    });
    std::thread b([&] {
      WaitSet ws;
      ws.add(&words[3 * kPage / 4], 0);
      auto r = ws.wait(monotonicNs() + 20'000'000'000, nullptr);
      if (r && r.value() == Wake::Cancelled) ended++;
    });
    usleep(100'000);
    truncateTo(name, kPage);  // word 0 stays, the other is lost: both sleeps end
    a.join();
    b.join();
    return ended.load() == 2 && seg.truncated() ? 0 : 1;
  });
  CHECK(st == 0);
}

TEST_CASE("many threads faulting on the lost pages at once all survive") {
  int st = check::inChild([] {
    std::string name = testName("threads");
    Unlink u{name};
    Segment seg = filled(name, 64);
    auto* p = static_cast<volatile uint8_t*>(seg.data());
    std::atomic<bool> stop{false};
    std::atomic<long> zeros{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t) {
      readers.emplace_back([&, t] {
        while (!stop.load()) {
          for (size_t i = t; i < 64; i += 4)
            if (p[i * kPage] == 0) zeros++;
        }
      });
    }
    usleep(20'000);
    truncateTo(name, 0);
    usleep(50'000);
    stop = true;
    for (auto& r : readers) r.join();
    return seg.truncated() && zeros.load() > 0 ? 0 : 1;
  });
  CHECK(st == 0);
}

TEST_CASE("a SIGBUS in a mapping the library did not make still kills (default disposition)") {
  int st = check::inChild([] {
    defaultSigbus();
    std::string name = testName("tracked");
    Unlink u{name};
    Segment seg = filled(name, 1);  // installs the handler
    Segment::unlink(name);          // this child dies: leave no name behind
    if (!truncation::handlerInstalled()) return 1;
    std::string own = testName("own");
    int fd = shm_open(own.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    shm_unlink(own.c_str());
    if (fd < 0 || ftruncate(fd, 4 * kPage) != 0) return 2;
    auto* q = static_cast<volatile uint8_t*>(mmap(nullptr, 4 * kPage, PROT_READ, MAP_SHARED, fd, 0));
    if (q == MAP_FAILED) return 3;
    if (ftruncate(fd, 0) != 0) return 4;
    sink = q[2 * kPage];  // not ours: dies
    return 5;
  });
  CHECK(st == kDiedBySigbus);
}

TEST_CASE("kill(SIGBUS) still kills with the handler installed") {
  int st = check::inChild([] {
    defaultSigbus();
    std::string name = testName("kill");
    Unlink u{name};
    Segment seg = filled(name, 1);
    Segment::unlink(name);  // this child dies: leave no name behind
    raise(SIGBUS);
    return 1;
  });
  CHECK(st == kDiedBySigbus);
}

namespace {
volatile sig_atomic_t previousRan = 0;
volatile sig_atomic_t previousCode = 0;
void previousHandler(int, siginfo_t* info, void*) {
  previousRan = 1;
  previousCode = info->si_code;
}
}  // namespace

TEST_CASE("a handler installed before the library gets the signals that are not ours") {
  int st = check::inChild([] {
    struct sigaction sa {};
    sa.sa_sigaction = previousHandler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, nullptr);
    std::string name = testName("chain");
    Unlink u{name};
    Segment seg = filled(name, 2);
    raise(SIGBUS);
    if (previousRan != 1 || previousCode != SI_TKILL) return 1;
    // A truncate of the library's mapping is handled here and never reaches the previous handler.
    previousRan = 0;
    truncateTo(name, 0);
    if (static_cast<volatile uint8_t*>(seg.data())[kPage] != 0) return 2;
    return previousRan == 0 && seg.truncated() ? 0 : 3;
  });
  CHECK(st == 0);
}

TEST_CASE("slots are freed on close and reused; wordFor finds only tracked memory") {
  int st = check::inChild([] {
    std::string name = testName("slots");
    Unlink u{name};
    int slot;
    {
      Segment a = filled(name, 1);
      slot = a.guardSlot();
      if (slot < 0) return 1;
      if (truncation::wordFor(a.data()) != &truncation::words()[slot]) return 2;
      if (truncation::wordFor(static_cast<uint8_t*>(a.data()) + kPage) != nullptr) return 3;  // one past the end
    }
    static int local = 0;
    if (truncation::wordFor(&local) != nullptr) return 4;
    Segment::unlink(name);
    Segment b = filled(name, 1);
    if (b.guardSlot() != slot || b.truncated()) return 5;  // the mark of a reused slot starts clear
    Segment moved = std::move(b);
    if (moved.guardSlot() != slot || b.guardSlot() != -1) return 6;
    return 0;
  });
  CHECK(st == 0);
}

TEST_CASE("an anonymous (sealed) segment is tracked but cannot shrink") {
  int st = check::inChild([] {
    auto r = Segment::anonymous(kPage);
    if (!r) return 1;
    if (r.value().guardSlot() < 0) return 2;
    if (ftruncate(r.value().fd(), 0) == 0) return 3;  // F_SEAL_SHRINK refuses it
    return r.value().checkTruncated() ? 4 : 0;
  });
  CHECK(st == 0);
}

TEST_MAIN()

TEST_CASE("a partial truncate: held locks on the kept pages stay listed, those on lost pages leave") {
  int st = check::inChild([] {
    std::string name = testName("robust");
    Unlink u{name};
    Segment seg = filled(name, 2);
    auto* kept = static_cast<uint8_t*>(seg.data());
    uint8_t* lost = kept + kPage;
    Mutex::init(kept);
    Mutex::init(lost);
    if (Mutex(kept).tryLock() != Outcome::Acquired || Mutex(lost).tryLock() != Outcome::Acquired) return 1;
    truncateTo(name, kPage);
    if (!seg.checkTruncated()) return 2;  // the second page reads zeros now
    Segment other = filled(testName("robust2"), 1);
    Segment::unlink(testName("robust2"));
    Mutex::init(other.data());
    Mutex mo(other.data());
    if (mo.tryLock() != Outcome::Acquired || !mo.unlock().ok()) return 3;  // relinks around the lost word
    // Closing releases the kept page's lock as owner-dead: it is still shared memory.
    if (robust::abandonRange(kept, 2 * kPage) != 1) return 4;  // the lost one left the list already
    Outcome o = Outcome::Busy;
    std::thread t([&] { o = Mutex(kept).tryLock(); });
    t.join();
    return o == Outcome::OwnerDead ? 0 : 5;
  });
  if (st != 0) std::fprintf(stderr, "partial truncate: step %d\n", st);
  CHECK(st == 0);
}
