#include "semaphore.hpp"

#include <cerrno>
#include <climits>
#include <cstring>

#include "futex.hpp"

namespace interproc {

void Semaphore::init(void* mem, uint32_t value) {
  std::memset(mem, 0, kSize);
  auto* l = static_cast<Layout*>(mem);
  l->value.store(value, std::memory_order_relaxed);
  writeHeader(mem, SyncKind::Semaphore, value);
}

Outcome Semaphore::tryAcquire() {
  uint32_t v = m_->value.load(std::memory_order_relaxed);
  while (v > 0) {
    if (m_->value.compare_exchange_weak(v, v - 1, std::memory_order_acquire)) return Outcome::Acquired;
  }
  return Outcome::Busy;
}

bool Semaphore::AcquireOp::prepare(WaitSet& ws) {
  // Count ourselves as a sleeper before the last look at the value, so a release that comes after
  // that look sees us and wakes (a seq_cst pair: our increment then load, its add then load).
  s().m_->sleepers.fetch_add(1);
  if (s().m_->value.load() != 0) {
    s().m_->sleepers.fetch_sub(1);
    return false;
  }
  ws.add(&s().m_->value, 0);
  return true;
}

void Semaphore::AcquireOp::giveUp() {
  // A release may have woken us as we gave up: hand its wake-up to another sleeper.
  if (s().m_->value.load() > 0 && s().m_->sleepers.load() > 0) {
    futex::wake(reinterpret_cast<uint32_t*>(&s().m_->value), 1);
  }
}

Result<Outcome> Semaphore::acquire(Deadline deadline, const Canceller* c) {
  AcquireOp op(*this);
  return acquireBlocking(op, deadline, c);
}

Status Semaphore::release(uint32_t n) {
  if (n == 0) return Ok{};
  uint32_t v = m_->value.load(std::memory_order_relaxed);
  do {
    if (n > kMaxValue - v) return SysError{EOVERFLOW, "sem_post"};
  } while (!m_->value.compare_exchange_weak(v, v + n, std::memory_order_seq_cst));
  if (m_->sleepers.load() > 0) {
    auto r = futex::wake(reinterpret_cast<uint32_t*>(&m_->value), n > INT_MAX ? INT_MAX : static_cast<int>(n));
    if (!r) return r.error();
  }
  return Ok{};
}

}  // namespace interproc
