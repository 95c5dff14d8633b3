// C++ tests of the core SharedMemory (Segment): creation modes, errors as values, sharing across fork.
#include "core/shm/shared_memory.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "../check.hpp"

using namespace interproc;

static std::string testName(const char* tag) {
  return "/interproc-ctest-" + std::string(tag) + "-" + std::to_string(getpid());
}

TEST_CASE("create, open and unlink a named segment") {
  std::string name = testName("basic");
  SegmentOptions opts;
  opts.size = 1000;
  auto a = Segment::open(name, CreateMode::Exclusive, opts);
  CHECK(a.ok());
  if (!a) return;
  CHECK(a.value().size() == 1000);
  CHECK(a.value().created());
  std::memcpy(a.value().data(), "hello", 5);
  auto b = Segment::open(name, CreateMode::OpenOnly, {});
  CHECK(b.ok() && std::memcmp(b.value().data(), "hello", 5) == 0);
  CHECK(b.ok() && !b.value().created());
  auto dup = Segment::open(name, CreateMode::Exclusive, opts);
  CHECK(!dup.ok() && dup.error().code == EEXIST && std::string(dup.error().syscall) == "shm_open");
  auto oc = Segment::open(name, CreateMode::OpenOrCreate, opts);
  CHECK(oc.ok() && !oc.value().created());
  CHECK(Segment::unlink(name).ok());
  auto gone = Segment::unlink(name);
  CHECK(!gone.ok() && gone.error().code == ENOENT);
  auto missing = Segment::open(name, CreateMode::OpenOnly, {});
  CHECK(!missing.ok() && missing.error().code == ENOENT);
}

TEST_CASE("mode is applied exactly, not narrowed by umask") {
  std::string name = testName("mode");
  mode_t old = umask(077);
  SegmentOptions opts;
  opts.size = 64;
  opts.mode = 0640;
  auto a = Segment::open(name, CreateMode::Exclusive, opts);
  umask(old);
  CHECK(a.ok());
  struct stat st {};
  CHECK(a.ok() && fstat(a.value().fd(), &st) == 0 && (st.st_mode & 0777) == 0640);
  Segment::unlink(name);
}

TEST_CASE("name validation") {
  CHECK(Segment::validateName("/ok").empty());
  CHECK(!Segment::validateName("noslash").empty());
  CHECK(!Segment::validateName("/").empty());
  CHECK(!Segment::validateName("/a/b").empty());
  CHECK(!Segment::validateName("/" + std::string(256, 'x')).empty());
  CHECK(Segment::validateName("/" + std::string(255, 'x')).empty());
}

TEST_CASE("anonymous segment is shared with a forked child and sealed") {
  auto a = Segment::anonymous(4096);
  CHECK(a.ok());
  if (!a) return;
  auto* word = static_cast<std::atomic<uint32_t>*>(a.value().data());
  word->store(1);
  int status = check::inChild([&] {
    if (word->load() != 1) return 1;
    word->store(2);
    return 0;
  });
  CHECK(status == 0);
  CHECK(word->load() == 2);
  CHECK(ftruncate(a.value().fd(), 0) != 0);  // sealed against shrinking
  auto b = Segment::fromFd(a.value().fd(), false);
  CHECK(b.ok() && b.value().size() == 4096 && b.value().fd() != a.value().fd());
}

TEST_CASE("read-only open maps private: writes stay local") {
  std::string name = testName("ro");
  SegmentOptions opts;
  opts.size = 4096;
  auto w = Segment::open(name, CreateMode::Exclusive, opts);
  SegmentOptions ro;
  ro.readonly = true;
  auto r = Segment::open(name, CreateMode::OpenOnly, ro);
  CHECK(w.ok() && r.ok());
  if (w && r) {
    static_cast<char*>(r.value().data())[0] = 'x';
    CHECK(static_cast<char*>(w.value().data())[0] == 0);
  }
  Segment::unlink(name);
}

TEST_CASE("fromFd on a bad fd is an error value") {
  auto r = Segment::fromFd(987654, false);
  CHECK(!r.ok() && r.error().code == EBADF);
}

TEST_MAIN()
