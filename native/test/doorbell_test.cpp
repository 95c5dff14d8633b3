// C++ tests of the eventfd doorbells: ring and drain, fetching another process's doorbell, and
// refusing to fetch anything that is not an eventfd (the fd number comes from shared memory).
#include "../core/doorbell.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.hpp"

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

TEST_MAIN()
