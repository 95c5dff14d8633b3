// Kernel robust futex words that live in shared memory and join the calling thread's robust list,
// the one glibc registers with set_robust_list for its own robust pthread mutexes. When a thread
// dies holding such a word (SIGKILL included), the kernel sets FUTEX_OWNER_DIED in it and wakes one
// waiter, so the next acquirer learns of the death at once. A RobustWord has glibc's
// pthread_mutex_t list layout (word, then prev at +24 and next at +32), so our entries and glibc's
// share one list and either library may insert or remove next to the other's.
#pragma once

#include <linux/futex.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/internal/result.hpp"

namespace interproc {

struct RobustWord {
  std::atomic<uint32_t> word;  // 0 free | owner tid | kWaiters | kOwnerDied (the kernel's format)
  uint32_t aux;                // private to the holder (e.g. a reader's recursion count)
  uint64_t reserved[2];
  void* prev;  // process-local list pointers of the holder (glibc __pthread_list_t)
  void* next;
};
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(sizeof(RobustWord) == 40);
static_assert(offsetof(RobustWord, prev) == 24 && offsetof(RobustWord, next) == 32);

namespace robust {

constexpr uint32_t kWaiters = FUTEX_WAITERS;       // someone sleeps on the word: wake on release
constexpr uint32_t kOwnerDied = FUTEX_OWNER_DIED;  // set by the kernel when the holder died
constexpr uint32_t kTidMask = FUTEX_TID_MASK;
constexpr uint32_t kNotRecoverable = kTidMask;  // a tid no thread can have (pid_max <= 2^22)

// The calling thread's kernel thread id (cached; reset in a forked child).
uint32_t selfTid();

// Ok when this thread has a robust list with glibc's layout; ENOTSUP (syscall get_robust_list) otherwise.
Status check();

// True when the word has no live holder but its last one died.
inline bool ownerDied(uint32_t w) { return (w & kOwnerDied) != 0 && (w & kTidMask) == 0; }
inline uint32_t owner(uint32_t w) { return w & kTidMask; }

// CAS word expected -> desired and, on success, put it on this thread's robust list. The pending
// slot of the list head covers the instant between the two, as glibc does.
bool take(RobustWord* n, uint32_t expected, uint32_t desired);

// Takes the word off this thread's list and stores newValue; returns the old value. The caller
// wakes sleepers (the old value tells whether there are any).
uint32_t release(RobustWord* n, uint32_t newValue);

// Takes the word off this thread's list, if it is there, without touching the word itself (for a
// word that another process rewrote: this thread no longer holds it, but the entry must not outlive
// the mapping).
void unlist(RobustWord* n);

// What the kernel does at thread exit, for the words of this thread in [begin, begin + length):
// used when a mapping is closed while this thread holds words in it, so no list entry ever points
// into unmapped memory. Returns how many words were abandoned. For a segment another process
// truncated (its words and list links read zeros), the words are dropped from the list instead and
// the list is rebuilt around them.
size_t abandonRange(const void* begin, size_t length);

// How many words left this process's lists because their mapping had been unmapped first, without
// abandonRange: each is a caller's bug (the word was never released), reported here for tests.
size_t strays();

}  // namespace robust
}  // namespace interproc
