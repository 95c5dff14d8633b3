// C++ tests of the eventfd doorbells: ring and drain, fetching another process's doorbell, refusing
// to fetch anything that is not an eventfd (the fd number comes from shared memory), and waitAny (the
// sync sleep on the doorbell and a peer's pidfd).
#include "core/mailbox/doorbell.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "../check.hpp"
#include "core/internal/pidfd.hpp"

using namespace interproc;

TEST_CASE("ring and drain") {
  auto fd = doorbell::create();
  CHECK(fd.ok());
  if (!fd) return;
  auto empty = doorbell::drain(fd.value());
  CHECK(empty.ok() && !empty.value());
  CHECK(doorbell::ring(fd.value()).ok());
  CHECK(doorbell::ring(fd.value()).ok());
  auto full = doorbell::drain(fd.value());
  CHECK(full.ok() && full.value());
  CHECK(doorbell::close(fd.value()).ok());
}

TEST_CASE("drain of what is not an eventfd is EINVAL, not an error without a code") {
  int p[2];
  CHECK(pipe(p) == 0);
  CHECK(write(p[1], "abc", 3) == 3);
  auto shortRead = doorbell::drain(p[0]);  // 3 bytes: a short read sets no errno
  CHECK(!shortRead.ok() && shortRead.error().code == EINVAL);
  close(p[1]);
  auto end = doorbell::drain(p[0]);  // end of file: read returns 0
  CHECK(!end.ok() && end.error().code == EINVAL);
  close(p[0]);
}

TEST_CASE("a forked process rings a doorbell fetched with pidfd_getfd") {
  auto fd = doorbell::create();
  CHECK(fd.ok());
  if (!fd) return;
  int efd = fd.value();
  pid_t parent = getpid();
  int status = check::inChild([&] {
    auto mine = doorbell::fetch(parent, efd);
    if (!mine) return 1;
    return doorbell::ring(mine.value()).ok() ? 0 : 2;
  });
  CHECK(status == 0);
  pollfd p{efd, POLLIN, 0};
  CHECK(poll(&p, 1, 1000) == 1);
  doorbell::close(efd);
}

TEST_CASE("refuses a descriptor that is not an eventfd, or a missing process") {
  int pipefd[2];
  CHECK(pipe(pipefd) == 0);
  auto r = doorbell::fetch(getpid(), pipefd[1]);
  CHECK(!r.ok() && r.error().code == EBADF);
  auto none = doorbell::fetch(getpid(), 987654);
  CHECK(!none.ok());
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  auto gone = doorbell::fetch(pid, 0);
  CHECK(!gone.ok() && gone.error().code == ESRCH);
  close(pipefd[0]);
  close(pipefd[1]);
}

TEST_CASE("isEventfd tells an eventfd from a pipe and a closed number") {
  auto fd = doorbell::create();
  CHECK(fd.ok());
  if (!fd) return;
  int p[2];
  CHECK(pipe(p) == 0);
  CHECK(doorbell::isEventfd(fd.value()));
  CHECK(!doorbell::isEventfd(p[0]));
  CHECK(!doorbell::isEventfd(987654));
  close(p[0]);
  close(p[1]);
  CHECK(doorbell::close(fd.value()).ok());
}

// The premise of the edge-triggered doorbell (docs/design/mailbox.md, Doorbells): with EPOLLET, every write
// to an eventfd is a new event even though nobody ever reads (resets) the counter.
TEST_CASE("an edge-triggered eventfd reports every ring without being drained") {
  auto fd = doorbell::create();
  CHECK(fd.ok());
  if (!fd) return;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  CHECK(ep >= 0);
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.fd = fd.value();
  CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd.value(), &e) == 0);
  e.events = EPOLLIN | EPOLLET;  // what FdWatcher#edgeTriggered does to libuv's registration
  CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, fd.value(), &e) == 0);
  epoll_event out[4];
  CHECK(epoll_wait(ep, out, 4, 0) == 0);
  for (int i = 0; i < 1000; i++) {
    CHECK(doorbell::ring(fd.value()).ok());
    int n = epoll_wait(ep, out, 4, 0);
    CHECK(n == 1 && out[0].data.fd == fd.value() && (out[0].events & EPOLLIN));
    CHECK(epoll_wait(ep, out, 4, 0) == 0);  // reported once per ring, not while the counter is non-zero
    if (n != 1) break;
  }
  // A registration that is not in the set cannot be made edge-triggered: the caller keeps draining.
  int other = epoll_create1(EPOLL_CLOEXEC);
  CHECK(epoll_ctl(other, EPOLL_CTL_MOD, fd.value(), &e) == -1 && errno == ENOENT);
  close(other);
  close(ep);
  CHECK(doorbell::close(fd.value()).ok());
}

namespace {
constexpr int64_t kMs = 1'000'000;
using doorbell::WaitOutcome;
}  // namespace

TEST_CASE("waitAny: the bell moved before the sleep (NotEqual), the eventfd reset; nothing at all (TimedOut)") {
  auto fd = doorbell::create();
  CHECK(fd.ok());
  if (!fd) return;
  uint32_t bell = 5;
  CHECK(doorbell::ring(fd.value()).ok());
  auto moved = doorbell::waitAny(fd.value(), &bell, 4, {}, 1000 * kMs);
  CHECK(moved.ok() && moved.value().outcome == WaitOutcome::NotEqual);
  auto left = doorbell::drain(fd.value());
  CHECK(left.ok() && !left.value());  // waitAny reset the counter before it looked at the bell
  // A ring before the call whose bell bump the caller had seen already: reset, and not a wake-up.
  CHECK(doorbell::ring(fd.value()).ok());
  auto quiet = doorbell::waitAny(fd.value(), &bell, 5, {}, 30 * kMs);
  CHECK(quiet.ok() && quiet.value().outcome == WaitOutcome::TimedOut);
  int too[doorbell::kMaxWaitPidfds + 1] = {};
  auto many = doorbell::waitAny(fd.value(), &bell, 5, too, 0);
  CHECK(!many.ok() && many.error().code == EINVAL);
  doorbell::close(fd.value());
}

TEST_CASE("waitAny: a bell bumped during the sleep without a ring (BellOnly, when the time runs out)") {
  auto fd = doorbell::create();
  CHECK(fd.ok());
  if (!fd) return;
  auto* bell = static_cast<uint32_t*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  CHECK(bell != MAP_FAILED);
  if (bell == MAP_FAILED) return;
  *bell = 7;
  pid_t bumper = fork();
  if (bumper == 0) {
    usleep(20'000);
    __atomic_fetch_add(bell, 1, __ATOMIC_SEQ_CST);  // a waker that could not fetch the eventfd
    _exit(0);
  }
  auto r = doorbell::waitAny(fd.value(), bell, 7, {}, 300 * kMs);
  CHECK(r.ok() && r.value().outcome == WaitOutcome::BellOnly);
  waitpid(bumper, nullptr, 0);
  munmap(bell, 4096);
  doorbell::close(fd.value());
}

TEST_CASE("waitAny: a ring from another process during the sleep (Rung), with a live peer's pidfd beside it") {
  auto fd = doorbell::create();
  CHECK(fd.ok());
  if (!fd) return;
  int efd = fd.value();
  // The bell lives in shared memory in a mailbox; here the child only rings.
  uint32_t bell = 0;
  pid_t peer = fork();
  if (peer == 0) {
    pause();
    _exit(0);
  }
  auto pfd = pidfd::open(peer);
  pid_t ringer = fork();
  if (ringer == 0) {
    usleep(50'000);
    _exit(doorbell::ring(efd).ok() ? 0 : 1);
  }
  int pidfds[1] = {pfd ? pfd.value() : -1};
  auto r = doorbell::waitAny(efd, &bell, 0, std::span<const int>(pidfds, pfd ? 1 : 0), 10'000 * kMs);
  CHECK(r.ok() && r.value().outcome == WaitOutcome::Rung);
  int status = 0;
  waitpid(ringer, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  kill(peer, SIGKILL);
  waitpid(peer, nullptr, 0);
  if (pfd) ::close(pfd.value());
  doorbell::close(efd);
}

TEST_CASE("waitAny: a peer that ends during the sleep (PeerEnded, with its index); its pidfd stays readable") {
  auto fd = doorbell::create();
  CHECK(fd.ok());
  if (!fd) return;
  uint32_t bell = 0;
  pid_t live = fork();
  if (live == 0) {
    pause();
    _exit(0);
  }
  pid_t dying = fork();
  if (dying == 0) {
    usleep(50'000);
    _exit(3);
  }
  auto a = pidfd::open(live);
  auto b = pidfd::open(dying);
  if (!a || !b) {
    std::printf("pidfd_open not permitted here: skipped\n");
  } else {
    int pidfds[2] = {a.value(), b.value()};
    auto r = doorbell::waitAny(fd.value(), &bell, 0, pidfds, 10'000 * kMs);
    CHECK(r.ok() && r.value().outcome == WaitOutcome::PeerEnded && r.value().pidfd == 1);
    // Still readable: a caller that sleeps on it again wakes at once (hence it must stop using it).
    auto again = doorbell::waitAny(fd.value(), &bell, 0, pidfds, 10'000 * kMs);
    CHECK(again.ok() && again.value().outcome == WaitOutcome::PeerEnded && again.value().pidfd == 1);
    auto without = doorbell::waitAny(fd.value(), &bell, 0, std::span<const int>(pidfds, 1), 20 * kMs);
    CHECK(without.ok() && without.value().outcome == WaitOutcome::TimedOut);
  }
  kill(live, SIGKILL);
  waitpid(live, nullptr, 0);
  waitpid(dying, nullptr, 0);
  if (a) ::close(a.value());
  if (b) ::close(b.value());
  doorbell::close(fd.value());
}

TEST_MAIN()
