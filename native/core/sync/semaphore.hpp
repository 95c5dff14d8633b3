// A process-shared counting semaphore, in one of two modes chosen at init:
// - Ownerless (default; as POSIX sem_t and Python's multiprocessing.Semaphore): any thread of any
//   process may release. A process that dies holding permits does not give them back; one that dies
//   while waiting costs later releases only a spare wake-up system call.
// - Robust: permits are owned by the thread that acquired them, counted in a holder slot (a robust
//   word on that thread's robust list, aux = permits held). Only a holder may release (EPERM
//   otherwise). When a holder dies (SIGKILL included) the kernel marks its slot and wakes a waiter
//   sleeping on it, which returns the dead holder's permits to the count ("reclaims" them). At most
//   kHolders threads hold permits at once; more wait for a free slot.
//
// Layout (8-aligned): SyncHeader (param = initial value, flags bit 0 = robust) | value u32 @16 |
// sleepers u32 @20 | spare | robust only: kHolders x { RobustWord slot, 24 spare } @64.
// Ownerless: kSize = 64 bytes; robust: kRobustSize = 2112 bytes.
#pragma once

#include <cstddef>
#include <vector>

#include "core/internal/contract.hpp"
#include "core/sync/robust_slot.hpp"
#include "core/sync/sync_header.hpp"
#include "core/sync/wait_set.hpp"

namespace interproc {

class Semaphore {
 public:
  static constexpr size_t kSize = contract::SEMAPHORE_BYTES;
  static constexpr uint32_t kHolders = contract::SEMAPHORE_HOLDERS;
  static constexpr size_t kRobustSize = contract::SEMAPHORE_ROBUST_BYTES;  // kSize + a 64-byte slot per holder
  static constexpr uint32_t kMaxValue = contract::SEMAPHORE_MAX_VALUE;
  static constexpr uint8_t kRobustFlag = contract::SEMAPHORE_ROBUST_FLAG;
  // `robust` is the mode this object was opened with (read once from the header, validated, and kept:
  // another process rewriting the header's flag can never make us index holder slots that are not
  // there). The one-argument form reads the header once, for callers that own the memory.
  Semaphore(void* mem, bool robust) : m_(static_cast<Layout*>(mem)), robust_(robust) {}
  explicit Semaphore(void* mem) : Semaphore(mem, (liveFlags(static_cast<SyncHeader*>(mem)[0]) & kRobustFlag) != 0) {}
  static void init(void* mem, uint32_t value, bool robust = false);
  static HeaderCheck check(const void* mem) { return checkHeader(mem, SyncKind::Semaphore); }
  static size_t byteLength(bool robust) { return robust ? kRobustSize : kSize; }

  Outcome tryAcquire();
  Result<Outcome> acquire(Deadline deadline, const Canceller* c = nullptr);
  // Adds n permits and wakes up to n sleepers. EOVERFLOW (nothing added) beyond kMaxValue; in robust
  // mode EPERM (nothing released) when the calling thread holds fewer than n permits.
  Status release(uint32_t n = 1);
  uint32_t value() const { return m_->value.load(std::memory_order_relaxed); }

  // A snapshot for inspection (loads only). `holders`: robust mode's slots, aux = permits held.
  struct View {
    uint32_t value;
    uint32_t sleepers;
    std::vector<WordView> holders;
  };
  View view() const;
  bool robust() const { return robust_; }
  // False once the header's robust flag differs from the mode kept at open (a corrupt or hostile write).
  bool layoutIntact() const { return ((liveFlags(m_->header) & kRobustFlag) != 0) == robust_; }
  // Robust mode: permits the calling thread holds; permits of dead holders returned to the count.
  uint32_t held();
  uint32_t reclaim();

  class AcquireOp : public interproc::AcquireOp {
   public:
    explicit AcquireOp(Semaphore s) : mem_(s.m_), robust_(s.robust_) {}
    // LayoutChanged when the header was rewritten since the wait began (nothing is touched then).
    Outcome attempt(bool) override { return s().layoutIntact() ? s().tryAcquire() : Outcome::LayoutChanged; }
    bool prepare(WaitSet& ws) override;
    void afterWait() override { s().m_->sleepers.fetch_sub(1); }
    void giveUp() override;

   private:
    void* mem_;
    bool robust_;
    Semaphore s() const { return Semaphore(mem_, robust_); }
  };

 private:
  using Slot = RobustSlot;
  struct Layout {
    SyncHeader header;
    std::atomic<uint32_t> value;
    std::atomic<uint32_t> sleepers;  // threads between prepare and afterWait: release wakes only if > 0
    uint8_t spare[40];
    Slot slots[kHolders];  // robust mode only
  };
  static_assert(offsetof(Layout, slots) == kSize && sizeof(Layout) == kRobustSize);
  Slot* ownSlot(uint32_t tid);
  Slot* freeSlot(uint32_t tid);  // takes one
  bool slotAvailable(uint32_t tid);
  static std::atomic<uint32_t>& held(Slot* s) { return reinterpret_cast<std::atomic<uint32_t>&>(s->w.aux); }
  Status add(uint32_t n);
  Layout* m_;
  bool robust_;
};

}  // namespace interproc
