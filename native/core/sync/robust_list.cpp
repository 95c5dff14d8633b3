#include "core/sync/robust_list.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "core/internal/portable.hpp"
#include "core/shm/futex.hpp"

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

void resetAfterFork() {
  tlsTid = 0;
  tlsHead = nullptr;
  tlsState = 0;
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
  if (ok) enqueue(h, n);
  setPending(h, nullptr);
  return ok;
}

uint32_t release(RobustWord* n, uint32_t newValue) {
  robust_list_head* h = head();
  if (h == nullptr) return n->word.exchange(newValue, std::memory_order_seq_cst);
  setPending(h, n);
  dequeue(n);
  uint32_t old = n->word.exchange(newValue, std::memory_order_seq_cst);
  setPending(h, nullptr);
  return old;
}

size_t abandonRange(const void* begin, size_t length) {
  robust_list_head* h = head();
  if (h == nullptr) return 0;
  auto lo = reinterpret_cast<uintptr_t>(begin);
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
  return count;
}

}  // namespace interproc::robust
