#include "core/sync/robust_list.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <vector>

#include "core/internal/portable.hpp"
#include "core/shm/futex.hpp"
#include "core/shm/truncation_guard.hpp"

namespace interproc::robust {

namespace {

// glibc's list node: entries point at `next`; (pointer & ~1) - 8 is the node (QUEUE_PTR_ADJUST).
struct ListNode {
  void* prev;
  void* next;
};

constexpr long kFutexOffset = -static_cast<long>(offsetof(RobustWord, next) - offsetof(RobustWord, word));

thread_local uint32_t tlsTid = 0;
thread_local robust_list_head* tlsHead = nullptr;
thread_local int tlsState = 0;  // 0 unknown, 1 usable, 2 unusable
// A word this thread holds, and where it lies: the place says, later, whether its mapping still exists.
struct Held {
  RobustWord* word;
  truncation::Place place;
};
// This thread's own words on its list, oldest first, in private memory: the links of a word in a
// segment that another process truncated read zeros, and this is how the list is rebuilt without it.
// A pointer, made on first use, so a call from another thread_local's destructor at thread exit
// finds a live vector (a plain thread_local vector may already be destroyed then); the holder frees it
// when the thread ends (threads of the blocking pool come and go: each leaked its vector before).
thread_local std::vector<Held>* tlsOurs = nullptr;
struct OursHolder {
  ~OursHolder() {
    delete tlsOurs;
    tlsOurs = nullptr;
  }
};
thread_local OursHolder tlsOursHolder;

std::vector<Held>& ours() {
  if (tlsOurs == nullptr) {
    tlsOurs = new std::vector<Held>();
    (void)&tlsOursHolder;  // odr-use: registers the holder's destructor for this thread
  }
  return *tlsOurs;
}

std::atomic<size_t> strayCount{0};

void resetAfterFork() {
  tlsTid = 0;
  tlsHead = nullptr;
  tlsState = 0;
  if (tlsOurs != nullptr) tlsOurs->clear();
}

struct ForkHook {
  ForkHook() { pthread_atfork(nullptr, nullptr, resetAfterFork); }
} forkHook;

robust_list_head* head() {
  if (tlsState == 0) {
    robust_list_head* h = nullptr;
    size_t len = 0;
    if (syscall(SYS_get_robust_list, 0, &h, &len) == 0 && h != nullptr && len == sizeof(robust_list_head) &&
        h->futex_offset == kFutexOffset) {
      tlsHead = h;
      tlsState = 1;
    } else {
      tlsState = 2;
    }
  }
  return tlsHead;
}

inline ListNode* nodeOf(void* entry) {
  return reinterpret_cast<ListNode*>((reinterpret_cast<uintptr_t>(entry) & ~uintptr_t{1}) - sizeof(void*));
}

inline void* entryOf(RobustWord* w) { return &w->next; }

// Our words' links live in shared memory, where any process mapping the segment may overwrite them,
// so this file never follows one: the list's shape comes from the private record (ours()). Our
// entries form one chain at the list's tail; glibc's robust pthread mutexes, if this thread holds
// any, sit in front of it (glibc only ever inserts at the head, and unlinks by its own links). The
// walk below reads only glibc's entries (glibc's own trust) and stops at our chain.
// Returns the location that points at our chain (or at the head when our chain is empty).
void** chainAnchor(robust_list_head* h) {
  auto& mine = ours();
  void* ourFirst = mine.empty() ? nullptr : entryOf(mine.back().word);  // relink() puts the newest first
  void** at = reinterpret_cast<void**>(&h->list.next);
  for (int guard = 0; guard < 4096; ++guard) {
    void* v = *at;
    if (v == ourFirst || v == &h->list || v == nullptr) return at;
    at = &nodeOf(v)->next;
  }
  return reinterpret_cast<void**>(&h->list.next);  // a cycle in foreign entries: ours go first
}

// Writes our chain's links from the record and points `at` at it. The kernel walks these links when
// the thread dies. Each word's mapping is pinned while its links are written, so a close on another
// thread cannot unmap it under the write. A word is dropped, never written, when
// - its memory was replaced with zeros by a truncation (the word is gone), or
// - its mapping was untracked: closed without abandonRange (a bug of the caller, counted in strays()).
//   Writing there could land in whatever is mapped at that address since.
void relink(robust_list_head* h, void** at) {
  auto& mine = ours();
  for (bool again = true; again;) {
    again = false;
    // Newest first: a word's links can be cut by anyone who maps its segment, and the kernel's walk
    // stops there, so the oldest words (a mailbox member's death word, taken at join, in a segment the
    // whole group maps) go last, where a cut costs no other word its owner-death notice.
    const size_t n = mine.size();
    void* prev = at;  // glibc's convention: prev holds the address of the predecessor's next field
    for (size_t k = 0; k < n; ++k) {
      Held& held = mine[n - 1 - k];
      truncation::Pinned pin(held.place);
      if (!pin.ok() || pin.zeroed(held.word)) {
        if (!pin.ok()) strayCount.fetch_add(1, std::memory_order_relaxed);
        held.word = nullptr;  // links already written to it are rewritten on the next pass
        again = true;
        continue;
      }
      RobustWord* w = held.word;
      w->prev = prev;
      w->next = k + 1 < n ? entryOf(mine[n - 2 - k].word) : &h->list;
      prev = entryOf(w);
    }
    if (again)
      mine.erase(std::remove_if(mine.begin(), mine.end(), [](const Held& x) { return x.word == nullptr; }), mine.end());
  }
  std::atomic_signal_fence(std::memory_order_seq_cst);
  *at = mine.empty() ? static_cast<void*>(&h->list) : entryOf(mine.back().word);
}

void setPending(robust_list_head* h, RobustWord* n) {
  h->list_op_pending = reinterpret_cast<robust_list*>(n != nullptr ? &n->next : nullptr);
  std::atomic_signal_fence(std::memory_order_seq_cst);
}

}  // namespace

uint32_t selfTid() {
  if (tlsTid == 0) tlsTid = static_cast<uint32_t>(portable::threadId());
  return tlsTid;
}

Status check() {
  if (head() == nullptr) return SysError{ENOTSUP, "get_robust_list"};
  return Ok{};
}

bool take(RobustWord* n, uint32_t expected, uint32_t desired) {
  robust_list_head* h = head();
  if (h == nullptr) {  // no usable robust list (callers check first): a plain, non-robust CAS
    return n->word.compare_exchange_strong(expected, desired, std::memory_order_seq_cst);
  }
  setPending(h, n);
  bool ok = n->word.compare_exchange_strong(expected, desired, std::memory_order_seq_cst);
  if (ok) {
    void** at = chainAnchor(h);
    ours().push_back({n, truncation::placeOf(n)});
    relink(h, at);
  }
  setPending(h, nullptr);
  return ok;
}

uint32_t release(RobustWord* n, uint32_t newValue) {
  robust_list_head* h = head();
  if (h == nullptr) return n->word.exchange(newValue, std::memory_order_seq_cst);
  setPending(h, n);
  void** at = chainAnchor(h);
  auto& mine = ours();
  auto it = std::find_if(mine.rbegin(), mine.rend(), [n](const Held& x) { return x.word == n; });  // usually the newest
  if (it != mine.rend()) mine.erase(std::next(it).base());
  relink(h, at);
  uint32_t old = n->word.exchange(newValue, std::memory_order_seq_cst);
  setPending(h, nullptr);
  return old;
}

void unlist(RobustWord* n) {
  robust_list_head* h = head();
  if (h == nullptr) return;
  auto& mine = ours();
  auto it = std::find_if(mine.begin(), mine.end(), [n](const Held& x) { return x.word == n; });
  if (it == mine.end()) return;
  void** at = chainAnchor(h);  // before the record changes: it compares with the chain's first
  mine.erase(it);
  relink(h, at);
}

size_t abandonRange(const void* begin, size_t length) {
  robust_list_head* h = head();
  if (h == nullptr) return 0;
  auto lo = reinterpret_cast<uintptr_t>(begin);
  uint32_t tid = selfTid();
  size_t count = 0;
  // From the record, newest first; a copy, since release() edits the record.
  std::vector<Held> mine = ours();
  for (auto it = mine.rbegin(); it != mine.rend(); ++it) {
    RobustWord* n = it->word;
    auto addr = reinterpret_cast<uintptr_t>(n);
    if (addr < lo || addr - lo >= length) continue;
    ++count;
    truncation::Pinned pin(it->place);
    uint32_t w = pin.ok() && !pin.zeroed(n) ? n->word.load() : 0;  // gone: nothing of ours to release
    if (owner(w) != tid) {         // gone, or overwritten under us: nothing to release, but it leaves the list
      void** at = chainAnchor(h);  // found before the record changes: it compares with the record's first
      auto& rec = ours();
      rec.erase(std::remove_if(rec.begin(), rec.end(), [n](const Held& x) { return x.word == n; }), rec.end());
      relink(h, at);
      continue;
    }
    uint32_t old = release(n, kOwnerDied | (w & kWaiters));
    if (old & kWaiters) futex::wake(reinterpret_cast<uint32_t*>(&n->word), 1);
  }
  return count;
}

size_t strays() { return strayCount.load(std::memory_order_relaxed); }

}  // namespace interproc::robust
