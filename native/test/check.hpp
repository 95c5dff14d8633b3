// A minimal test harness for the core's C++ tests (no third-party framework to download):
// CHECK(cond) records a failure with file:line and goes on; each test binary returns non-zero on failure.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace check {

inline int& failures() {
  static int n = 0;
  return n;
}

struct Case {
  const char* name;
  std::function<void()> fn;
};

inline std::vector<Case>& cases() {
  static std::vector<Case> c;
  return c;
}

struct Register {
  Register(const char* name, std::function<void()> fn) { cases().push_back({name, std::move(fn)}); }
};

inline int runAll() {
  int failedCases = 0;
  for (auto& c : cases()) {
    int before = failures();
    c.fn();
    bool ok = failures() == before;
    if (!ok) ++failedCases;
    std::printf("%s %s\n", ok ? "ok    " : "FAILED", c.name);
  }
  std::printf("%zu cases, %d failed\n", cases().size(), failedCases);
  return failedCases == 0 ? 0 : 1;
}

// Runs fn in a forked child; returns the child's exit status (0 = fine).
inline int inChild(const std::function<int()>& fn) {
  std::fflush(nullptr);  // or the child inherits unwritten output, which a sanitizer's exit writes again
  pid_t pid = fork();
  if (pid == 0) _exit(fn());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace check

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      ++check::failures();                                                          \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                               \
  } while (0)

#define TEST_CASE_CAT2(a, b) a##b
#define TEST_CASE_CAT(a, b) TEST_CASE_CAT2(a, b)
#define TEST_CASE(name)                                                                       \
  static void TEST_CASE_CAT(test_, __LINE__)();                                               \
  static check::Register TEST_CASE_CAT(reg_, __LINE__)(name, TEST_CASE_CAT(test_, __LINE__)); \
  static void TEST_CASE_CAT(test_, __LINE__)()

#define TEST_MAIN() \
  int main() { return check::runAll(); }
