#include "mutex.hpp"

#include <cerrno>
#include <climits>
#include <cstring>

#include "futex.hpp"

namespace interproc {

void Mutex::init(void* mem) {
  std::memset(mem, 0, kSize);
  writeHeader(mem, SyncKind::Mutex, 0);
}

Outcome Mutex::tryLock(bool waited) {
  const uint32_t tid = robust::selfTid();
  uint32_t w = m_->lock.word.load(std::memory_order_relaxed);
  for (;;) {
    if (w == 0) {
      // After a sleep, keep the waiters bit: other sleepers may remain behind us.
      if (robust::take(&m_->lock, 0, tid | (waited ? robust::kWaiters : 0))) return Outcome::Acquired;
    } else if (w == robust::kNotRecoverable) {
      return Outcome::NotRecoverable;
    } else if (robust::ownerDied(w)) {
      if (robust::take(&m_->lock, w, tid | (w & robust::kWaiters))) {
        m_->header.state.store(1, std::memory_order_relaxed);
        return Outcome::OwnerDead;
      }
    } else if (robust::owner(w) == tid) {
      return Outcome::Deadlock;
    } else {
      return Outcome::Busy;
    }
    w = m_->lock.word.load(std::memory_order_relaxed);
  }
}

bool Mutex::LockOp::prepare(WaitSet& ws) {
  auto& word = m().m_->lock.word;
  uint32_t w = word.load(std::memory_order_relaxed);
  if (w == 0 || w == robust::kNotRecoverable || robust::ownerDied(w)) return false;
  if (!(w & robust::kWaiters)) {
    if (!word.compare_exchange_strong(w, w | robust::kWaiters)) return false;
    w |= robust::kWaiters;
  }
  ws.add(&word, w);
  return true;
}

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

Status Mutex::markConsistent() {
  uint32_t w = m_->lock.word.load(std::memory_order_relaxed);
  if (w == robust::kNotRecoverable || robust::owner(w) != robust::selfTid()) return SysError{EPERM, "mutex_consistent"};
  if (m_->header.state.load() == 0) return SysError{EINVAL, "mutex_consistent"};
  m_->header.state.store(0, std::memory_order_release);
  return Ok{};
}

}  // namespace interproc
