// C++ tests of the eventfd doorbells: ring and drain, fetching another process's doorbell, and
// refusing to fetch anything that is not an eventfd (the fd number comes from shared memory).
#include "core/mailbox/doorbell.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "../check.hpp"

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

TEST_MAIN()
