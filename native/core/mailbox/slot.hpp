// Member slots of a mailbox group (layout in core/mailbox/ring.hpp): the native half of joining and
// leaving. A slot's first eight bytes, gen and pid, change together with one 64-bit CAS when a
// member joins, so the process that holds an odd generation (a join or a leave in progress) is
// always known; lib/mailbox/segment.ts writes the same protocol (docs/protocol/mailbox-segment.md).
// The native side only leaves: when an environment (a worker thread, the main thread) goes away
// with slots still held, its cleanup hook leaves them as a close() would.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "core/mailbox/ring.hpp"

namespace interproc::slot {

// gen (low word) and pid (high word) as the 64-bit word they form.
constexpr uint64_t word(uint32_t gen, uint32_t pid) { return uint64_t(gen) | (uint64_t(pid) << 32); }

// The incarnation `gen` held by `pid` leaves slot `s`: odd generation while the identity is cleared,
// then gen + 2 with pid 0 ("left"). Does nothing and returns false when the slot no longer holds that
// incarnation (it left already, or a joiner took it over after deciding this one was dead).
bool leave(ring::MemberSlot* s, uint32_t gen, uint32_t pid);

}  // namespace interproc::slot
