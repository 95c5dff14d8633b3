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
// This thread's own words on its list, oldest first, in private memory: the links of a word in a
// segment that another process truncated read zeros, and this is how the list is rebuilt without it.
// A pointer, made on first use, so a call from another thread_local's destructor at thread exit
// finds a live vector (a plain thread_local vector may already be destroyed then); the holder frees it
// when the thread ends (threads of the blocking pool come and go: each leaked its vector before).
thread_local std::vector<RobustWord*>* tlsOurs = nullptr;
struct OursHolder {
  ~OursHolder() {
    delete tlsOurs;
    tlsOurs = nullptr;
  }
};
thread_local OursHolder tlsOursHolder;

std::vector<RobustWord*>& ours() {
  if (tlsOurs == nullptr) {
    tlsOurs = new std::vector<RobustWord*>();
    (void)&tlsOursHolder;  // odr-use: registers the holder's destructor for this thread
  }
  return *tlsOurs;
}

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

void enqueue(robust_list_head* h, RobustWord* n) {
  // Same steps as glibc's ENQUEUE_MUTEX_BOTH, so its dequeue of a neighbour keeps our links right.
  void* first = h->list.next;
  nodeOf(first)->prev = &n->next;
  n->next = first;
  n->prev = h;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  h->list.next = reinterpret_cast<robust_list*>(&n->next);
}

void dequeue(RobustWord* n) {
  nodeOf(n->next)->prev = n->prev;
  nodeOf(n->prev)->next = n->next;
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
    enqueue(h, n);
    ours().push_back(n);
  }
  setPending(h, nullptr);
  return ok;
}

uint32_t release(RobustWord* n, uint32_t newValue) {
  robust_list_head* h = head();
  if (h == nullptr) return n->word.exchange(newValue, std::memory_order_seq_cst);
  setPending(h, n);
  dequeue(n);
  auto& mine = ours();
  auto it = std::find(mine.rbegin(), mine.rend(), n);  // usually the newest
  if (it != mine.rend()) mine.erase(std::next(it).base());
  uint32_t old = n->word.exchange(newValue, std::memory_order_seq_cst);
  setPending(h, nullptr);
  return old;
}

namespace {

// True when the entry lies in a tracked segment that another process truncated: its links read zeros.
bool lost(const void* entry) {
  if (entry == nullptr) return true;
  const uint32_t* cut =
      truncation::wordFor(reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(entry) & ~uintptr_t{1}));
  return cut != nullptr && __atomic_load_n(cut, __ATOMIC_ACQUIRE) != 0;
}

// Walks the list, touching only entries whose links are sound: true when one is not.
bool hasLost(robust_list_head* h) {
  void* e = h->list.next;
  for (int guard = 0; e != &h->list && guard < 4096; ++guard) {
    if (lost(e)) return true;
    e = nodeOf(e)->next;
  }
  return false;
}

// Rebuilds this thread's list without its entries in truncated segments: entries before the first
// lost one are followed in memory, those after it come from this thread's own record (a glibc robust
// mutex listed after a lost word would drop off the list; Node uses none). The lost words themselves
// are gone: nothing to release. Returns how many entries were dropped.
size_t forgetTruncated(robust_list_head* h) {
  std::vector<void*> keep;
  auto& mine = ours();
  void* e = h->list.next;
  void* firstLost = nullptr;
  for (int guard = 0; e != &h->list && guard < 4096; ++guard) {
    if (lost(e)) {
      firstLost = e;
      break;
    }
    keep.push_back(e);
    e = nodeOf(e)->next;
  }
  if (firstLost != nullptr) {
    // The rest of the list, from the record: our words older than the first lost one, not lost.
    auto at = std::find_if(mine.begin(), mine.end(), [&](RobustWord* w) { return &w->next == firstLost; });
    for (auto it = at; it != mine.begin();) {
      --it;
      void* entry = &(*it)->next;
      if (!lost(entry) && std::find(keep.begin(), keep.end(), entry) == keep.end()) keep.push_back(entry);
    }
  }
  size_t before = mine.size();
  mine.erase(std::remove_if(mine.begin(), mine.end(), [&](RobustWord* w) { return lost(&w->next); }), mine.end());
  setPending(h, nullptr);
  void* prev = h;
  for (size_t i = 0; i < keep.size(); ++i) {
    nodeOf(keep[i])->prev = prev;
    nodeOf(keep[i])->next = i + 1 < keep.size() ? keep[i + 1] : &h->list;
    prev = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(keep[i]) & ~uintptr_t{1});
  }
  std::atomic_signal_fence(std::memory_order_seq_cst);
  h->list.next = reinterpret_cast<robust_list*>(keep.empty() ? &h->list : keep[0]);
  return before - mine.size();
}

}  // namespace

size_t abandonRange(const void* begin, size_t length) {
  robust_list_head* h = head();
  if (h == nullptr) return 0;
  auto lo = reinterpret_cast<uintptr_t>(begin);
  // Entries of a truncated segment (this range's or another's) would lead the walk into zeros.
  size_t dropped = hasLost(h) ? forgetTruncated(h) : 0;
  uint32_t tid = selfTid();
  size_t count = 0;
  void* entry = h->list.next;
  for (int guard = 0; entry != &h->list && guard < 4096; ++guard) {
    void* following = nodeOf(entry)->next;
    auto addr = reinterpret_cast<uintptr_t>(entry) & ~uintptr_t{1};
    if (addr >= lo && addr - lo < length) {
      auto* n = reinterpret_cast<RobustWord*>(addr - offsetof(RobustWord, next));
      uint32_t w = n->word.load();
      if (owner(w) == tid) {
        uint32_t old = release(n, kOwnerDied | (w & kWaiters));
        if (old & kWaiters) futex::wake(reinterpret_cast<uint32_t*>(&n->word), 1);
        ++count;
      }
    }
    entry = following;
  }
  return count + dropped;
}

}  // namespace interproc::robust
