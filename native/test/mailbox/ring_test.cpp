// C++ tests of the mailbox ring: layout checks, wrap-around at every offset, a full ring, a
// stream across forked processes, and a producer SIGKILLed mid-write that never tears a message.
#include "core/mailbox/ring.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "../check.hpp"
#include "core/internal/process_identity.hpp"
#include "core/shm/shared_memory.hpp"

using namespace interproc;
using namespace interproc::ring;

namespace {

struct Group {
  Segment seg;
  GroupLayout layout;
  RingHeader* header(uint32_t from, uint32_t to) {
    return reinterpret_cast<RingHeader*>(static_cast<uint8_t*>(seg.data()) + layout.ringOffset(from, to));
  }
  uint8_t* data(uint32_t from, uint32_t to) {
    return reinterpret_cast<uint8_t*>(header(from, to)) + sizeof(RingHeader);
  }
  Producer producer(uint32_t from, uint32_t to) { return Producer(header(from, to), data(from, to)); }
  Consumer consumer(uint32_t from, uint32_t to) { return Consumer(header(from, to), data(from, to)); }
};

Group makeGroup(uint32_t members, uint32_t capacity) {
  Group g;
  g.layout = layoutFor(members, capacity);
  auto seg = Segment::anonymous(g.layout.totalSize);
  if (seg) {
    g.seg = std::move(seg.value());
    initGroup(g.seg.data(), g.layout);
  }
  return g;
}

// Message seq of `len` bytes: seq in the first 4 bytes (when room), then a byte pattern.
void fill(std::vector<uint8_t>& buf, uint32_t seq, uint32_t len) {
  buf.resize(len);
  for (uint32_t i = 0; i < len; ++i) buf[i] = static_cast<uint8_t>(seq * 31 + i * 7);
  if (len >= 4) std::memcpy(buf.data(), &seq, 4);
}
bool verify(const uint8_t* p, uint32_t seq, uint32_t len) {
  std::vector<uint8_t> want;
  fill(want, seq, len);
  return len == 0 || std::memcmp(p, want.data(), len) == 0;  // memcmp of an empty vector: null data
}
uint32_t sizeFor(uint32_t seq, uint32_t max) {
  uint32_t x = seq * 2654435761u;
  x ^= x >> 15;
  x *= 2246822519u;
  x ^= x >> 13;
  return x % (max + 1);
}

}  // namespace

TEST_CASE("layout: sizes, offsets and checks on open") {
  GroupLayout l = layoutFor(4, 4096);
  CHECK(l.totalSize == l.ringsOffset + 12 * (256 + 4096));
  CHECK(l.ringsOffset % 64 == 0);
  CHECK(layoutFor(1, 4096).totalSize == 0);
  CHECK(layoutFor(2, 5000).totalSize == 0);
  CHECK(layoutFor(2, 2048).totalSize == 0);
  CHECK(layoutFor(65, 4096).totalSize == 0);
  CHECK(l.ringIndex(0, 1) == 0 && l.ringIndex(1, 0) == 3 && l.ringIndex(3, 2) == 11);
  Group g = makeGroup(3, 4096);
  CHECK(g.seg.valid());
  GroupLayout seen;
  CHECK(checkGroup(g.seg.data(), g.seg.size(), &seen) == nullptr);
  CHECK(seen.members == 3 && seen.capacity == 4096);
  CHECK(checkGroup(g.seg.data(), g.layout.totalSize - 1, nullptr) != nullptr);  // truncated
  auto* h = static_cast<GroupHeader*>(g.seg.data());
  h->version = 99;
  CHECK(checkGroup(g.seg.data(), g.seg.size(), nullptr) != nullptr);
  h->version = kLayoutVersion;
  g.header(2, 1)->to = 0;  // a corrupt ring header
  CHECK(checkGroup(g.seg.data(), g.seg.size(), nullptr) != nullptr);
}

TEST_CASE("wrap-around at every offset, with exact fits and padding records") {
  const uint32_t cap = 4096, max = maxMessage(cap);
  Group g = makeGroup(2, cap);
  Producer p = g.producer(0, 1);
  Consumer c = g.consumer(0, 1);
  std::vector<uint8_t> buf;
  uint32_t seq = 0, bad = 0;
  auto roundTrip = [&](uint32_t len) {
    fill(buf, seq, len);
    if (!p.tryWrite(buf.data(), len)) ++bad;
    uint32_t n = 0;
    const uint8_t* m = c.peek(&n);
    if (m == nullptr || n != len || !verify(m, seq, len)) ++bad;
    c.release();
    ++seq;
  };
  for (uint32_t start = 0; start < cap; start += 8) {
    for (uint32_t len : {0u, 1u, 7u, 8u, 100u, 1000u, max - 1, max}) {
      // move the index to `start`, then send `len` from there
      while ((g.header(0, 1)->tail & (cap - 1)) != start) {
        uint32_t pos = g.header(0, 1)->tail & (cap - 1);
        uint32_t gap = start > pos ? start - pos : cap - pos;
        roundTrip(std::min(gap, max + kRecordHeader) - kRecordHeader);
      }
      roundTrip(len);
    }
  }
  CHECK(bad == 0);
  CHECK(g.header(0, 1)->head == g.header(0, 1)->tail);
}

TEST_CASE("a full ring refuses, then accepts after a read; oversize is refused") {
  Group g = makeGroup(2, 4096);
  Producer p = g.producer(1, 0);
  Consumer c = g.consumer(1, 0);
  uint8_t msg[100] = {};
  int n = 0;
  while (p.tryWrite(msg, sizeof msg)) ++n;
  CHECK(n == 4096 / 112);
  uint8_t out[128];
  CHECK(c.tryRead(out, sizeof out) == 100);
  CHECK(p.tryWrite(msg, sizeof msg));
  CHECK(!p.tryWrite(msg, sizeof msg));
  std::vector<uint8_t> big(maxMessage(4096) + 1);
  Group e = makeGroup(2, 4096);
  Producer q = e.producer(0, 1);
  CHECK(!q.tryWrite(big.data(), static_cast<uint32_t>(big.size())));
  CHECK(q.tryWrite(big.data(), maxMessage(4096)));
}

TEST_CASE("a stream of random sizes across processes arrives complete and in order") {
  Group g = makeGroup(2, 1 << 16);
  const uint32_t count = 200000, max = 8192;
  pid_t pid = fork();
  if (pid == 0) {
    Producer p = g.producer(1, 0);
    std::vector<uint8_t> buf;
    for (uint32_t seq = 0; seq < count; ++seq) {
      uint32_t len = sizeFor(seq, max);
      fill(buf, seq, len);
      while (!p.tryWrite(buf.data(), len)) sched_yield();
    }
    _exit(0);
  }
  Consumer c = g.consumer(1, 0);
  uint32_t bad = 0;
  for (uint32_t seq = 0; seq < count; ++seq) {
    uint32_t n = 0;
    const uint8_t* m;
    while ((m = c.peek(&n)) == nullptr) sched_yield();
    if (n != sizeFor(seq, max) || !verify(m, seq, n)) ++bad;
    c.release();
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(bad == 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_CASE("a producer SIGKILLed mid-stream never exposes a torn message") {
  Group g = makeGroup(2, 1 << 16);
  uint32_t bad = 0, total = 0;
  for (int round = 0; round < 10; ++round) {
    pid_t pid = fork();
    if (pid == 0) {
      Producer p = g.producer(1, 0);
      std::vector<uint8_t> buf;
      for (uint32_t seq = 0;; ++seq) {
        uint32_t len = sizeFor(seq + round * 7919, 30000);
        fill(buf, seq, len);
        while (!p.tryWrite(buf.data(), len)) {}
      }
    }
    Consumer c = g.consumer(1, 0);
    uint32_t seq = 0;
    auto drain = [&](bool untilEmpty) {
      uint32_t n = 0;
      const uint8_t* m;
      bool corrupt = false;
      while ((m = c.peek(&n, &corrupt)) != nullptr || !untilEmpty) {
        if (m == nullptr) return;
        if (n != sizeFor(seq + round * 7919, 30000) || !verify(m, seq, n)) ++bad;
        c.release();
        ++seq;
      }
      if (corrupt) ++bad;
    };
    while (seq < 300u + round * 97u) drain(false);  // mid-stream: the producer is busy writing
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(!process_identity::alive(pid, 0));
    drain(true);
    total += seq;
  }
  CHECK(bad == 0);
  CHECK(total >= 10 * 300);
}

TEST_CASE("a record that would end past the data area is corrupt, not a read beyond the ring") {
  // capacity 4096: a record claiming 1000 bytes at offset 4032 would end at 5040, past the area
  // (a pad marker, not a record, must stand where a record does not fit before the end).
  Group g = makeGroup(2, 4096);
  RingHeader* h = g.header(0, 1);
  uint8_t* d = g.data(0, 1);
  std::atomic_ref<uint32_t>(h->head).store(4032);
  std::memcpy(d + 4032, "\xE8\x03\0\0", 4);  // length 1000
  std::atomic_ref<uint32_t>(h->tail).store(4032 + kRecordHeader + 1000);
  Consumer c = g.consumer(0, 1);
  uint32_t len = 0;
  bool corrupt = false;
  CHECK(c.peek(&len, &corrupt) == nullptr);
  CHECK(corrupt);
}

TEST_CASE("process identity: this process is alive, a reaped child is not") {
  int64_t me = process_identity::startTime(getpid());
  CHECK(me > 0);
  CHECK(process_identity::alive(getpid(), me));
  CHECK(!process_identity::alive(getpid(), me + 1));
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(process_identity::startTime(pid) == -1);
}

TEST_MAIN()
