// A process-shared mutex that survives its holder's death. The lock word is a kernel robust futex
// (owner tid | waiters | owner-died) on the holder thread's robust list: when the holder dies, even
// by SIGKILL, the kernel marks the word and wakes a sleeper, whose acquire then reports OwnerDead.
// It holds the lock and must repair the data and call markConsistent(); unlocking without doing so
// makes the mutex permanently NotRecoverable (ENOTRECOVERABLE), as POSIX robust mutexes do.
//
// Layout (64 bytes, 8-aligned): SyncHeader (state = 1 while inconsistent) | RobustWord | 8 spare.
#pragma once

#include <cstddef>

#include "core/internal/contract.hpp"
#include "core/sync/robust_list.hpp"
#include "core/sync/robust_slot.hpp"
#include "core/sync/sync_header.hpp"
#include "core/sync/wait_set.hpp"

namespace interproc {

class Mutex {
 public:
  static constexpr size_t kSize = contract::MUTEX_BYTES;
  explicit Mutex(void* mem) : m_(static_cast<Layout*>(mem)) {}
  static void init(void* mem);
  static HeaderCheck check(const void* mem) { return checkHeader(mem, SyncKind::Mutex); }

  // All on the calling thread, which becomes the owner.
  Outcome tryLock(bool waited = false);
  Result<Outcome> lock(Deadline deadline, const Canceller* c = nullptr);
  Status unlock();          // EPERM when the calling thread is not the owner
  Status markConsistent();  // EPERM when not the owner; EINVAL when already consistent
  // Gives the lock back as owner-dead, as this thread's death would (the next locker gets OwnerDead):
  // for a lock taken with OwnerDead whose taker can no longer repair it. EPERM when not the owner.
  Status abandon();

  uint32_t ownerTid() const { return robust::owner(m_->lock.word.load()); }

  // A snapshot for inspection (loads only): the lock word, and whether it is consistent.
  struct View {
    WordView lock;
    bool consistent;
    bool notRecoverable;  // released after an owner death without markConsistent()
  };
  View view() const;
  bool consistent() const { return m_->header.state.load() == 0; }
  uint32_t* word() { return reinterpret_cast<uint32_t*>(&m_->lock.word); }

  // The acquire protocol split for a wait on another thread (see AcquireOp).
  class LockOp : public AcquireOp {
   public:
    explicit LockOp(Mutex m) : mem_(m.m_) {}
    Outcome attempt(bool waited) override { return m().tryLock(waited); }
    bool prepare(WaitSet& ws) override;
    void giveUp() override;

   private:
    void* mem_;
    Mutex m() const { return Mutex(mem_); }
  };

 private:
  struct Layout {
    SyncHeader header;
    RobustWord lock;
    uint64_t spare;
  };
  static_assert(sizeof(Layout) == kSize);
  Layout* m_;
};

}  // namespace interproc
