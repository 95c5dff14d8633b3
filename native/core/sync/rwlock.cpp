#include "core/sync/rwlock.hpp"

#include <cerrno>
#include <climits>
#include <cstring>

#include "core/shm/futex.hpp"
#include "core/sync/exclusive_word.hpp"

namespace interproc {

void RwLock::init(void* mem) {
  std::memset(mem, 0, kSize);
  writeHeader(mem, SyncKind::RwLock, kReaders);
}

RwLock::Slot* RwLock::ownSlot(uint32_t tid) { return robust::slotOf(m_->slots, kReaders, tid); }

namespace {

// The slot of a reader that died: freed for the next reader. The kernel woke one sleeper on it at
// the death, and that may have been a reader which then took another way (or nothing): whoever frees
// the slot wakes everyone else sleeping on it, so no writer waiting for readers to leave is left asleep.
void reclaimDeadReader(RobustSlot& s, uint32_t v) {
  if (s.w.word.compare_exchange_strong(v, 0) && (v & robust::kWaiters)) futex::wake(futexWord(&s.w.word), INT_MAX);
}

}  // namespace

void RwLock::reclaimDeadReaders() {
  for (auto& s : m_->slots) {
    uint32_t v = s.w.word.load(std::memory_order_relaxed);
    if (robust::ownerDied(v)) reclaimDeadReader(s, v);
  }
}

void RwLock::passOnWriterDeath(uint32_t w) {
  // The kernel woke one sleeper at the writer's death. A reader takes nothing here (OwnerDeadNoLock),
  // so it must not keep that wake-up to itself: a writer asleep behind it would sleep for ever. Clear
  // the waiters bit (no one can start a sleep on an owner-dead word: prepare refuses it) and wake all;
  // only the thread whose CAS clears the bit pays for the wake.
  if ((w & robust::kWaiters) && m_->writer.word.compare_exchange_strong(w, w & ~robust::kWaiters)) {
    futex::wake(futexWord(&m_->writer.word), INT_MAX);
  }
}

RwLock::View RwLock::view() const {
  WordView w = viewOf(m_->writer);
  const bool lost = w.tid == robust::kNotRecoverable;
  if (lost) w.tid = 0;
  View v{w, m_->header.state.load(std::memory_order_relaxed) == 0, lost, {}};
  for (const auto& s : m_->slots) v.readers.push_back(viewOf(s.w));
  return v;
}

uint32_t RwLock::readers() const {
  uint32_t n = 0;
  for (auto& s : m_->slots) n += robust::owner(s.w.word.load()) != 0;
  return n;
}

Outcome RwLock::tryRead() {
  const uint32_t tid = robust::selfTid();
  if (Slot* s = ownSlot(tid)) {  // recursive read: never blocks, even behind a waiting writer
    ++s->w.aux;
    return Outcome::Acquired;
  }
  uint32_t w = m_->writer.word.load();
  if (w != 0) {
    if (w == robust::kNotRecoverable) return Outcome::NotRecoverable;
    if (robust::ownerDied(w)) {
      passOnWriterDeath(w);
      return Outcome::OwnerDeadNoLock;
    }
    if (robust::owner(w) == tid) return Outcome::Deadlock;
    return Outcome::Busy;
  }
  Slot* mine = nullptr;
  for (int pass = 0; pass < 2 && mine == nullptr; ++pass) {
    for (auto& s : m_->slots) {
      uint32_t v = s.w.word.load(std::memory_order_relaxed);
      if (pass == 1 && robust::ownerDied(v)) {  // reclaim a dead reader's
        reclaimDeadReader(s, v);
        v = s.w.word.load(std::memory_order_relaxed);
      }
      if (v == 0 && robust::take(&s.w, 0, tid)) {
        mine = &s;
        break;
      }
    }
  }
  if (mine == nullptr) return Outcome::Busy;
  mine->w.aux = 1;
  // A writer may have come in between our look at its word and our slot (seq_cst on both sides: it
  // takes its word then reads the slots; we take a slot then read its word). Then we back off.
  if (m_->writer.word.load() != 0) {
    robust::releaseSlot(mine);
    return Outcome::Busy;
  }
  return Outcome::Acquired;
}

bool RwLock::ReadOp::prepare(WaitSet& ws) {
  auto& writer = l().m_->writer.word;
  uint32_t w = writer.load();
  if (w == robust::kNotRecoverable || robust::ownerDied(w)) return false;
  if (w != 0) return robust::watch(writer, w, ws);
  // No writer: every slot was taken. Sleep until one is released (or a writer comes).
  ws.add(&writer, 0);
  for (auto& s : l().m_->slots) {
    uint32_t v = s.w.word.load();
    if (v == 0 || robust::ownerDied(v)) return false;
    if (!robust::watch(s.w.word, v, ws)) return false;
  }
  return true;
}

Outcome RwLock::tryWriterWord(bool waited) { return exclusive::tryTake(m_->writer, m_->header, waited); }

bool RwLock::prepareWriterWord(WaitSet& ws) { return exclusive::prepareSleep(m_->writer, ws); }

Outcome RwLock::readersGone() {
  const uint32_t tid = robust::selfTid();
  bool gone = true;
  for (auto& s : m_->slots) {
    uint32_t v = s.w.word.load();
    if (v == 0) continue;
    if (robust::ownerDied(v)) {
      reclaimDeadReader(s, v);  // a dead reader: reclaim
      continue;
    }
    if (robust::owner(v) == tid) return Outcome::Deadlock;  // upgrading a read lock would wait forever
    gone = false;
  }
  return gone ? Outcome::Acquired : Outcome::Busy;
}

void RwLock::giveBackWriter(bool ownerDead) {
  // Readers and writers queued behind us may all proceed (or, after an owner death, learn of it).
  robust::release(&m_->writer, ownerDead ? robust::kOwnerDied : 0);
  futex::wake(futexWord(&m_->writer.word), INT_MAX);
}

Outcome RwLock::tryWrite() {
  Outcome o = tryWriterWord(false);
  if (o != Outcome::Acquired && o != Outcome::OwnerDead) return o == Outcome::Deadlock ? Outcome::Busy : o;
  if (readersGone() == Outcome::Acquired) return o;
  giveBackWriter(o == Outcome::OwnerDead);
  return Outcome::Busy;
}

Outcome RwLock::WriteOp::attempt(bool waited) {
  if (!haveWriterWord_) {
    Outcome o = l().tryWriterWord(waited);
    if (o != Outcome::Acquired && o != Outcome::OwnerDead) return o;
    haveWriterWord_ = true;
    ownerDead_ = o == Outcome::OwnerDead;
  }
  Outcome r = l().readersGone();
  if (r == Outcome::Deadlock) {
    giveUp();
    return r;
  }
  if (r == Outcome::Busy) return r;
  return ownerDead_ ? Outcome::OwnerDead : Outcome::Acquired;
}

bool RwLock::WriteOp::prepare(WaitSet& ws) {
  if (!haveWriterWord_) return l().prepareWriterWord(ws);
  for (auto& s : l().m_->slots) {
    uint32_t v = s.w.word.load();
    if (v == 0 || robust::ownerDied(v)) continue;
    if (!robust::watch(s.w.word, v, ws)) return false;
  }
  return ws.size() > 0;
}

void RwLock::WriteOp::giveUp() {
  if (haveWriterWord_) {
    l().giveBackWriter(ownerDead_);
    haveWriterWord_ = false;
  } else if (robust::owner(l().m_->writer.word.load()) == 0) {
    futex::wake(futexWord(&l().m_->writer.word), INT_MAX);  // pass on a wake-up we may have taken
  }
}

Outcome RwLock::ReadOp::attempt(bool waited) {
  // Woken: the wake-up may have been the kernel's for a dead reader's slot; free such slots (waking
  // the others on them) even if this reader then finds a writer and goes back to sleep.
  if (waited) l().reclaimDeadReaders();
  return l().tryRead();
}

Result<Outcome> RwLock::lockRead(Deadline deadline, const Canceller* c) {
  ReadOp op(*this);
  return acquireBlocking(op, deadline, c);
}

Result<Outcome> RwLock::lockWrite(Deadline deadline, const Canceller* c) {
  WriteOp op(*this);
  return acquireBlocking(op, deadline, c);
}

Status RwLock::unlockRead() {
  Slot* s = ownSlot(robust::selfTid());
  if (s == nullptr) return SysError{EPERM, "rwlock_unlock"};
  if (--s->w.aux > 0) return Ok{};
  robust::releaseSlot(s);
  return Ok{};
}

Status RwLock::unlockWrite() {
  uint32_t w = m_->writer.word.load();
  if (w == robust::kNotRecoverable || robust::owner(w) != robust::selfTid()) return SysError{EPERM, "rwlock_unlock"};
  const bool inconsistent = m_->header.state.load() != 0;
  uint32_t old = robust::release(&m_->writer, inconsistent ? robust::kNotRecoverable : 0);
  if (inconsistent || (old & robust::kWaiters)) futex::wake(futexWord(&m_->writer.word), INT_MAX);
  return Ok{};
}

Status RwLock::abandonWrite() {
  uint32_t w = m_->writer.word.load();
  if (w == robust::kNotRecoverable || robust::owner(w) != robust::selfTid()) return SysError{EPERM, "rwlock_unlock"};
  m_->header.state.store(1);
  giveBackWriter(true);
  return Ok{};
}

Status RwLock::markConsistent() {
  uint32_t w = m_->writer.word.load();
  if (w == robust::kNotRecoverable || robust::owner(w) != robust::selfTid())
    return SysError{EPERM, "rwlock_consistent"};
  if (m_->header.state.load() == 0) return SysError{EINVAL, "rwlock_consistent"};
  m_->header.state.store(0);
  return Ok{};
}

}  // namespace interproc
