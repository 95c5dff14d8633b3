// A process-shared counting semaphore. Permits are not owned (as with POSIX sem_t and Python's
// multiprocessing.Semaphore: any process may release), so a process that dies holding permits
// does not give them back; a process that dies while waiting costs nothing but an extra wake-up
// system call on later releases. (Owner death is tracked by Mutex and RwLock, which have owners.)
//
// Layout (64 bytes, 8-aligned): SyncHeader (param = initial value) | value u32 | sleepers u32 | spare.
#pragma once

#include <cstddef>

#include "sync_header.hpp"
#include "wait_set.hpp"

namespace interproc {

class Semaphore {
 public:
  static constexpr size_t kSize = 64;
  static constexpr uint32_t kMaxValue = 0x7fffffff;
  explicit Semaphore(void* mem) : m_(static_cast<Layout*>(mem)) {}
  static void init(void* mem, uint32_t value);
  static HeaderCheck check(const void* mem) { return checkHeader(mem, SyncKind::Semaphore); }

  Outcome tryAcquire();
  Result<Outcome> acquire(Deadline deadline, const Canceller* c = nullptr);
  // Adds n permits and wakes up to n sleepers. EOVERFLOW (nothing added) beyond kMaxValue.
  Status release(uint32_t n = 1);
  uint32_t value() const { return m_->value.load(std::memory_order_relaxed); }

  class AcquireOp : public interproc::AcquireOp {
   public:
    explicit AcquireOp(Semaphore s) : mem_(s.m_) {}
    Outcome attempt(bool) override { return s().tryAcquire(); }
    bool prepare(WaitSet& ws) override;
    void afterWait() override { s().m_->sleepers.fetch_sub(1); }
    void giveUp() override;

   private:
    void* mem_;
    Semaphore s() const { return Semaphore(mem_); }
  };

 private:
  struct Layout {
    SyncHeader header;
    std::atomic<uint32_t> value;
    std::atomic<uint32_t> sleepers;  // threads between prepare and afterWait: release wakes only if > 0
    uint8_t spare[40];
  };
  static_assert(sizeof(Layout) == kSize);
  Layout* m_;
};

}  // namespace interproc
