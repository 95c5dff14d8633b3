#include "core/mailbox/slot.hpp"

#include <atomic>
#include <cstddef>

namespace interproc::slot {

static_assert(offsetof(ring::MemberSlot, gen) == 0 && offsetof(ring::MemberSlot, pid) == 4);
static_assert(sizeof(ring::GroupHeader) % 8 == 0 && sizeof(ring::MemberSlot) % 8 == 0);
static_assert(__atomic_always_lock_free(sizeof(uint64_t), 0));

namespace {
// The (gen, pid) pair seen as one 64-bit word (slots sit at 64 + 64·m, so it is 8-byte aligned);
// may_alias: the same bytes are also read as the two u32 fields.
using IdentityWord = uint64_t __attribute__((may_alias));
IdentityWord* identityOf(ring::MemberSlot* s) { return reinterpret_cast<IdentityWord*>(s); }
}  // namespace

bool leave(ring::MemberSlot* s, uint32_t gen, uint32_t pid) {
  IdentityWord* identity = identityOf(s);
  uint64_t expected = word(gen, pid);
  // Odd, still naming us: a reader sees "in progress, held by a live process" until the store below.
  if (!__atomic_compare_exchange_n(identity, &expected, word(gen + 1, pid), false, __ATOMIC_SEQ_CST,
                                   __ATOMIC_SEQ_CST)) {
    return false;
  }
  std::atomic_ref<int32_t>(s->eventfd).store(-1, std::memory_order_seq_cst);
  __atomic_store_n(identity, word(gen + 2, 0), __ATOMIC_SEQ_CST);
  return true;
}

}  // namespace interproc::slot
