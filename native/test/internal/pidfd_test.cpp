// C++ test of the pidfd wrappers: a child's pidfd becomes readable when it ends, and waitid(P_PIDFD,
// WNOWAIT) gives its exit code or signal without reaping it (the parent's waitpid still does).
#include "core/internal/pidfd.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "../check.hpp"

using namespace interproc;

namespace {

// Forks a child that runs `body`; returns its pid and pidfd (or -1 when pidfds are not permitted).
pid_t spawn(void (*body)(), int& fd) {
  pid_t pid = fork();
  if (pid == 0) {
    body();
    _exit(0);
  }
  auto r = pidfd::open(pid);
  fd = r ? r.value() : -1;
  return pid;
}

void exit7() { _exit(7); }
void sleepLong() { pause(); }

}  // namespace

TEST_CASE("an exited child's pidfd is readable and gives its code, and waitpid still reaps it") {
  int fd;
  pid_t pid = spawn(exit7, fd);
  if (fd < 0) {
    std::printf("pidfd_open not permitted here: skipped\n");
    waitpid(pid, nullptr, 0);
    return;
  }
  while (!pidfd::ended(fd)) usleep(1000);
  auto s = pidfd::exitStatus(fd);
  CHECK(s.ok());
  CHECK(s.value().known);
  CHECK(s.value().code == 7);
  CHECK(s.value().signal == 0);
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);  // WNOWAIT left it for us
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
  close(fd);
}

TEST_CASE("a SIGKILLed child gives its signal; a live one has not ended") {
  int fd;
  pid_t pid = spawn(sleepLong, fd);
  if (fd < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return;
  }
  CHECK(!pidfd::ended(fd));
  auto early = pidfd::exitStatus(fd);
  CHECK(early.ok() && !early.value().known);
  kill(pid, SIGKILL);
  while (!pidfd::ended(fd)) usleep(1000);
  auto s = pidfd::exitStatus(fd);
  CHECK(s.ok() && s.value().known && s.value().signal == SIGKILL && s.value().code == -1);
  waitpid(pid, nullptr, 0);
  close(fd);
}

TEST_CASE("a process that is not our child: it ends, its status is not known") {
  // The grandchild is orphaned to init when the middle child exits: not ours to wait for.
  int idPipe[2], gate[2];  // the grandchild's pid comes up one; closing the other lets it exit
  CHECK(pipe(idPipe) == 0 && pipe(gate) == 0);
  pid_t middle = fork();
  if (middle == 0) {
    pid_t g = fork();
    if (g == 0) {
      close(gate[1]);
      char c;
      (void)read(gate[0], &c, 1);  // returns 0 once the test closes the write end
      _exit(3);
    }
    (void)write(idPipe[1], &g, sizeof g);
    _exit(0);
  }
  close(gate[0]);
  pid_t g = 0;
  CHECK(read(idPipe[0], &g, sizeof g) == sizeof g);
  close(idPipe[0]);
  close(idPipe[1]);
  waitpid(middle, nullptr, 0);
  auto r = pidfd::open(g);
  if (!r) {
    close(gate[1]);
    return;
  }
  int fd = r.value();
  CHECK(!pidfd::ended(fd));
  close(gate[1]);
  while (!pidfd::ended(fd)) usleep(1000);
  auto s = pidfd::exitStatus(fd);
  CHECK(s.ok() && !s.value().known);
  close(fd);
}

TEST_CASE("no such process: ESRCH") {
  auto r = pidfd::open(0);
  CHECK(!r.ok() && r.error().code == ESRCH);
}

TEST_MAIN()
