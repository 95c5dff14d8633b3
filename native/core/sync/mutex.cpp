#include "core/sync/mutex.hpp"

#include <cerrno>
#include <climits>
#include <cstring>

#include "core/shm/futex.hpp"
#include "core/sync/exclusive_word.hpp"

namespace interproc {

void Mutex::init(void* mem) {
  std::memset(mem, 0, kSize);
  writeHeader(mem, SyncKind::Mutex, 0);
}

Mutex::View Mutex::view() const {
  WordView w = viewOf(m_->lock);
  const bool lost = w.tid == robust::kNotRecoverable;
  if (lost) w.tid = 0;
  return {w, m_->header.state.load(std::memory_order_relaxed) == 0, lost};
}

Outcome Mutex::tryLock(bool waited) { return exclusive::tryTake(m_->lock, m_->header, waited); }

bool Mutex::LockOp::prepare(WaitSet& ws) { return exclusive::prepareSleep(m().m_->lock, ws); }

void Mutex::LockOp::giveUp() {
  // An unlock may have woken this sleeper just as it gave up: pass that wake-up on, or the other
  // sleepers would sleep on a free lock (the unlock cleared the waiters bit).
  uint32_t w = m().m_->lock.word.load();
  if (robust::owner(w) == 0) futex::wake(m().word(), 1);
}

Result<Outcome> Mutex::lock(Deadline deadline, const Canceller* c) {
  LockOp op(*this);
  return acquireBlocking(op, deadline, c);
}

Status Mutex::unlock() {
  uint32_t w = m_->lock.word.load(std::memory_order_relaxed);
  if (w == robust::kNotRecoverable || robust::owner(w) != robust::selfTid()) return SysError{EPERM, "mutex_unlock"};
  const bool inconsistent = m_->header.state.load(std::memory_order_relaxed) != 0;
  uint32_t old = robust::release(&m_->lock, inconsistent ? robust::kNotRecoverable : 0);
  if (inconsistent) {
    futex::wake(word(), INT_MAX);  // everyone must learn it is unrecoverable
  } else if (old & robust::kWaiters) {
    futex::wake(word(), 1);
  }
  return Ok{};
}

Status Mutex::abandon() {
  uint32_t w = m_->lock.word.load(std::memory_order_relaxed);
  if (w == robust::kNotRecoverable || robust::owner(w) != robust::selfTid()) return SysError{EPERM, "mutex_unlock"};
  m_->header.state.store(1, std::memory_order_relaxed);
  uint32_t old = robust::release(&m_->lock, robust::kOwnerDied | (w & robust::kWaiters));
  if (old & robust::kWaiters) futex::wake(word(), 1);
  return Ok{};
}

Status Mutex::markConsistent() {
  uint32_t w = m_->lock.word.load(std::memory_order_relaxed);
  if (w == robust::kNotRecoverable || robust::owner(w) != robust::selfTid()) return SysError{EPERM, "mutex_consistent"};
  if (m_->header.state.load() == 0) return SysError{EINVAL, "mutex_consistent"};
  m_->header.state.store(0, std::memory_order_release);
  return Ok{};
}

}  // namespace interproc
