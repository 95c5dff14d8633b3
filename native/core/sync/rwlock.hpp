// A process-shared reader-writer lock that survives the death of readers and writers, and whose
// writers are not starved by a stream of readers.
// - Writer: a robust word (as Mutex). A writer first takes it, which stops new readers, then waits
//   for the readers inside to leave. So a waiting writer gets in after the current readers, however
//   many new ones arrive (writer preference).
// - Readers: each reading thread holds one of kReaders robust reader slots (recursion counted in it).
//   A reader that dies has its slot marked by the kernel, which also wakes a writer sleeping on it;
//   the writer reclaims the slot, so a dead reader never blocks writers. Readers change no data, so
//   no repair is needed.
// - A writer that dies leaves the lock owner-dead: the next writer acquires with OwnerDead and must
//   markConsistent() (else NotRecoverable, as Mutex); until then readers get OwnerDeadNoLock (an
//   error, nothing taken) rather than reading half-written data.
//
// Layout (64 + 64 * kReaders = 2112 bytes, 8-aligned): SyncHeader (state = 1 while inconsistent) |
// writer RobustWord | 8 spare | kReaders x { RobustWord slot (aux = recursion), 24 spare }.
#pragma once

#include <cstddef>
#include <vector>

#include "core/internal/contract.hpp"
#include "core/sync/robust_slot.hpp"
#include "core/sync/sync_header.hpp"
#include "core/sync/wait_set.hpp"

namespace interproc {

class RwLock {
 public:
  static constexpr uint32_t kReaders =
      contract::RWLOCK_READERS;                            // concurrent reading threads; more wait for a free slot
  static constexpr size_t kSize = contract::RWLOCK_BYTES;  // a header line, then a 64-byte slot per reader
  explicit RwLock(void* mem) : m_(static_cast<Layout*>(mem)) {}
  static void init(void* mem);
  static HeaderCheck check(const void* mem) { return checkHeader(mem, SyncKind::RwLock); }

  Outcome tryRead();
  Outcome tryWrite();
  Result<Outcome> lockRead(Deadline deadline, const Canceller* c = nullptr);
  Result<Outcome> lockWrite(Deadline deadline, const Canceller* c = nullptr);
  Status unlockRead();   // EPERM when this thread holds no read lock
  Status unlockWrite();  // EPERM when this thread is not the writer
  Status markConsistent();
  // Gives the write lock back as owner-dead (as Mutex::abandon). EPERM when this thread is not the writer.
  Status abandonWrite();
  uint32_t readers() const;  // reader slots in use (a snapshot)
  uint32_t writerTid() const { return robust::owner(m_->writer.word.load()); }

  // A snapshot for inspection (loads only): the writer's word and the reader slots (aux = recursion).
  struct View {
    WordView writer;
    bool consistent;
    bool notRecoverable;
    std::vector<WordView> readers;
  };
  View view() const;

  class ReadOp : public AcquireOp {
   public:
    explicit ReadOp(RwLock l) : mem_(l.m_) {}
    Outcome attempt(bool waited) override;
    bool prepare(WaitSet& ws) override;

   private:
    void* mem_;
    RwLock l() const { return RwLock(mem_); }
  };

  class WriteOp : public AcquireOp {
   public:
    explicit WriteOp(RwLock l) : mem_(l.m_) {}
    Outcome attempt(bool waited) override;
    bool prepare(WaitSet& ws) override;
    void giveUp() override;

   private:
    void* mem_;
    RwLock l() const { return RwLock(mem_); }
    bool haveWriterWord_ = false;
    bool ownerDead_ = false;
  };

 private:
  using Slot = RobustSlot;
  struct Layout {
    SyncHeader header;
    RobustWord writer;
    uint64_t spare;
    Slot slots[kReaders];
  };
  static_assert(sizeof(Layout) == kSize && offsetof(Layout, slots) == 64);

  Outcome tryWriterWord(bool waited);
  bool prepareWriterWord(WaitSet& ws);
  // True when no live reader holds a slot (slots of dead readers are reclaimed); Deadlock when the
  // calling thread is one of the readers.
  Outcome readersGone();
  void giveBackWriter(bool ownerDead);
  void reclaimDeadReaders();           // frees dead readers' slots, waking the sleepers on each
  void passOnWriterDeath(uint32_t w);  // a reader saw the writer dead (w): wakes every sleeper
  Slot* ownSlot(uint32_t tid);
  Layout* m_;
};

}  // namespace interproc
