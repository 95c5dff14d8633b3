// A reusable process-shared barrier for N parties. A party is a thread: at its first wait() it takes
// a party slot, a robust word on its robust list, and keeps it until leave() (or its death). When a
// party dies (SIGKILL included) the kernel marks its slot and wakes whoever sleeps on it; every
// waiter sleeps on all other parties' slots too (futex_waitv), so the barrier breaks at once: the
// current and all later waits fail with Broken instead of hanging, until reset(). A wait that times
// out or is cancelled also breaks it (its arrival cannot be taken back), as Python's Barrier does.
//
// Layout (64 + 64 * parties bytes, 8-aligned): SyncHeader (param = parties) | arrived u32 |
// generation u32 | broken u32 | joins u32 | spare | parties x { RobustWord slot, 24 spare }.
#pragma once

#include <cstddef>
#include <vector>

#include "core/internal/contract.hpp"
#include "core/sync/robust_slot.hpp"
#include "core/sync/sync_header.hpp"
#include "core/sync/wait_set.hpp"

namespace interproc {

class Barrier {
 public:
  static constexpr uint32_t kMaxParties =
      contract::BARRIER_MAX_PARTIES;  // the waiter sleeps on every other slot at once
  static constexpr size_t byteLength(uint32_t parties) {
    return contract::BARRIER_HEADER_BYTES + contract::BARRIER_PARTY_BYTES * parties;
  }
  // `parties` is the count this object was opened with (read once from the header, validated against
  // the mapping, and kept: a later rewrite of the header never makes us index slots past the object).
  // The one-argument form reads the header once, for callers that own the memory.
  Barrier(void* mem, uint32_t parties) : m_(static_cast<Layout*>(mem)), parties_(parties) {}
  explicit Barrier(void* mem) : Barrier(mem, liveParam(static_cast<SyncHeader*>(mem)[0])) {}
  static void init(void* mem, uint32_t parties);
  static HeaderCheck check(const void* mem) { return checkHeader(mem, SyncKind::Barrier); }
  uint32_t parties() const { return parties_; }
  // False once the header's parties differ from the count kept at open (a corrupt or hostile write).
  bool layoutIntact() const { return liveParam(m_->header) == parties_; }

  struct Arrival {
    Outcome outcome;      // Acquired (this call tripped it), Busy (wait for generation), Broken
    uint32_t generation;  // the generation this party arrived in
  };
  // Arrives (on the calling thread, which joins as a party if new). EUSERS: more threads than parties.
  Result<Arrival> arrive();
  // Blocking arrive + wait. Acquired for every party; `serial` is set for the one that tripped it.
  Result<Outcome> wait(Deadline deadline, bool* serial = nullptr, const Canceller* c = nullptr);
  // Leaves: the slot is marked gone, so the others are not left waiting for this party.
  void leave();
  void breakBarrier();
  // Makes a broken barrier usable again: clears gone parties' slots and the count. Call it when no
  // party is waiting.
  void reset();
  bool broken() const { return m_->broken.load() != 0; }

  // A snapshot for inspection (loads only): the parties' slots (tid 0 and ownerDied: died or left).
  struct View {
    uint32_t arrived;
    uint32_t generation;
    bool broken;
    std::vector<WordView> parties;
  };
  View view() const;
  uint32_t generation() const { return m_->generation.load(); }

  // Waiting for generation g to pass.
  class PassOp : public AcquireOp {
   public:
    PassOp(Barrier b, uint32_t g) : mem_(b.m_), parties_(b.parties_), g_(g) {}
    Outcome attempt(bool) override;
    bool prepare(WaitSet& ws) override;
    void giveUp() override { b().breakBarrier(); }

   private:
    void* mem_;
    uint32_t parties_;
    Barrier b() const { return Barrier(mem_, parties_); }
    uint32_t g_;
  };

 private:
  using Slot = RobustSlot;
  struct Layout {
    SyncHeader header;
    std::atomic<uint32_t> arrived;
    std::atomic<uint32_t> generation;
    std::atomic<uint32_t> broken;
    std::atomic<uint32_t> joins;  // bumped when a party joins: waiters then add its slot to their set
    uint8_t spare[32];
    Slot slots[1];  // parties of them
  };
  static_assert(sizeof(Slot) == contract::BARRIER_PARTY_BYTES &&
                offsetof(Layout, slots) == contract::BARRIER_HEADER_BYTES);
  Slot* ownSlot();
  bool anyGone() const;
  Layout* m_;
  uint32_t parties_;
};

}  // namespace interproc
