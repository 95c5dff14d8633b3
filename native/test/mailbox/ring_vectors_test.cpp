// The shared ring vectors (test/mailbox/vectors/ring.txt, format described there) run by the C++
// consumer, Consumer::peek/release: each ring image must give its messages, then empty or corrupt.
// test/mailbox/ring-vectors.test.ts runs the same file through the JS consumer (lib/mailbox/ring.ts).
// The data area is a heap block of exactly `capacity` bytes, so a record read past its end shows up
// under ASan as well as in the payload check.
//
// Usage: ring_vectors_test [vectors-file]; by default the file next to this source in the repository.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../check.hpp"
#include "core/mailbox/ring.hpp"

using namespace interproc::ring;

namespace {

struct Step {
  enum Kind { Message, Empty, Corrupt, Publish } kind;
  uint32_t length = 0;
  uint32_t seed = 0;
  uint32_t tail = 0;  // Publish: the producer's index becomes this
};

struct Vector {
  std::string name;
  uint32_t capacity = 0, head = 0, tail = 0;
  std::vector<uint8_t> image;  // the data area, filled in once capacity is known
  std::vector<Step> steps;
};

uint8_t patternByte(uint32_t seed, uint32_t i) { return static_cast<uint8_t>(seed + i); }

int parseErrors = 0;

// Parses the file; a malformed line is an error (reported with its line number), never skipped.
std::vector<Vector> parse(const std::string& path) {
  std::vector<Vector> out;
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    ++parseErrors;
    return out;
  }
  std::string line;
  int lineNo = 0;
  Vector* v = nullptr;
  auto bad = [&](const std::string& why) {
    std::fprintf(stderr, "%s:%d: %s\n", path.c_str(), lineNo, why.c_str());
    ++parseErrors;
  };
  auto put32 = [&](uint32_t offset, uint32_t value) {
    if (v->image.empty() || offset % 4 != 0 || uint64_t(offset) + 4 > v->image.size())
      return bad("word outside the data area");
    std::memcpy(v->image.data() + offset, &value, 4);
  };
  while (std::getline(in, line)) {
    ++lineNo;
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string op;
    if (!(words >> op)) continue;
    if (op == "vector") {
      out.emplace_back();
      v = &out.back();
      if (!(words >> v->name)) bad("a vector needs a name");
      continue;
    }
    std::vector<uint32_t> args;
    for (std::string w; words >> w;) {
      char* end = nullptr;
      unsigned long long n = std::strtoull(w.c_str(), &end, 0);
      if (*end != '\0' || n > UINT32_MAX) {
        bad("not a 32-bit number: " + w);
        n = 0;
      }
      args.push_back(static_cast<uint32_t>(n));
    }
    auto want = [&](size_t n) {
      if (args.size() == n) return true;
      bad(op + " takes " + std::to_string(n) + " numbers");
      return false;
    };
    if (v == nullptr) {
      bad(op + " before any vector");
      continue;
    }
    if (op == "capacity") {
      if (want(1)) v->capacity = args[0], v->image.assign(args[0], 0);
    } else if (op == "head") {
      if (want(1)) v->head = args[0];
    } else if (op == "tail") {
      if (want(1)) v->tail = args[0];
    } else if (op == "word") {
      if (want(2)) put32(args[0], args[1]);
    } else if (op == "record") {
      if (!want(3)) continue;
      if (uint64_t(args[0]) + kRecordHeader + args[1] > v->image.size()) {
        bad("record outside the data area");
        continue;
      }
      put32(args[0], args[1]);
      put32(args[0] + 4, 0);
      for (uint32_t i = 0; i < args[1]; ++i) v->image[args[0] + kRecordHeader + i] = patternByte(args[2], i);
    } else if (op == "message") {
      if (want(2)) v->steps.push_back({Step::Message, args[0], args[1]});
    } else if (op == "publish") {
      if (want(1)) v->steps.push_back({Step::Publish, 0, 0, args[0]});
    } else if (op == "empty") {
      if (want(0)) v->steps.push_back({Step::Empty});
    } else if (op == "corrupt") {
      if (want(0)) v->steps.push_back({Step::Corrupt});
    } else if (op == "end") {
      if (v->steps.empty() || v->steps.back().kind == Step::Message || v->steps.back().kind == Step::Publish)
        bad("a vector ends with empty or corrupt");
      v = nullptr;
    } else {
      bad("unknown directive " + op);
    }
  }
  if (v != nullptr) bad("the last vector has no end");
  return out;
}

void run(const Vector& v) {
  if (!isPowerOfTwo(v.capacity) || v.capacity < kMinCapacity) {
    std::fprintf(stderr, "%s: bad capacity %u\n", v.name.c_str(), v.capacity);
    CHECK(false);
    return;
  }
  auto header = std::make_unique<RingHeader>();
  header->capacity = v.capacity;
  header->head = v.head;
  header->tail = v.tail;
  // Exactly capacity bytes of its own, so anything read past the area is outside the allocation.
  std::unique_ptr<uint8_t[]> data(new uint8_t[v.capacity]);
  std::memcpy(data.get(), v.image.data(), v.capacity);
  Consumer c(header.get(), data.get());
  size_t step = 0;
  uint32_t tail = v.tail;
  for (const Step& s : v.steps) {
    if (s.kind == Step::Publish) {
      tail = s.tail;
      std::atomic_ref<uint32_t>(header->tail).store(tail, std::memory_order_release);
      ++step;
      continue;
    }
    uint32_t len = 0;
    bool corrupt = false;
    const uint8_t* p = c.peek(&len, &corrupt);
    bool ok = true;
    switch (s.kind) {
      case Step::Message:
        ok = p != nullptr && !corrupt && len == s.length;
        for (uint32_t i = 0; ok && i < len; ++i) ok = p[i] == patternByte(s.seed, i);
        if (p != nullptr) c.release();
        break;
      case Step::Empty: ok = p == nullptr && !corrupt && header->head == tail; break;
      case Step::Corrupt: ok = p == nullptr && corrupt; break;
      case Step::Publish: break;
    }
    if (!ok) {
      static const char* names[] = {"a message", "empty", "corrupt", "publish"};
      std::fprintf(stderr, "%s: step %zu: expected %s (length %u), got %s, length %u, corrupt %d, head %u\n",
                   v.name.c_str(), step, names[s.kind], s.length, p ? "a message" : "none", len, corrupt, header->head);
      CHECK(false);
      return;
    }
    ++step;
  }
}

std::string defaultPath() {
  // native/test/mailbox/ -> the repository root (CMake compiles sources by absolute path).
  std::filesystem::path here = std::filesystem::path(__FILE__).parent_path();
  return (here / ".." / ".." / ".." / "test" / "mailbox" / "vectors" / "ring.txt").lexically_normal().string();
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = argc > 1 ? argv[1] : defaultPath();
  static std::vector<Vector> vectors = parse(path);
  check::cases().push_back({"ring vectors: the file parses", [] {
                              CHECK(parseErrors == 0);
                              CHECK(vectors.size() >= 20);
                            }});
  static std::vector<std::string> names;
  for (const Vector& v : vectors) names.push_back("ring vector " + v.name);
  for (size_t i = 0; i < vectors.size(); ++i) check::cases().push_back({names[i].c_str(), [i] { run(vectors[i]); }});
  return check::runAll();
}
