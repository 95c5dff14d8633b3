#include "core/sync/semaphore.hpp"

#include <cerrno>
#include <climits>
#include <cstring>

#include "core/shm/futex.hpp"

namespace interproc {

void Semaphore::init(void* mem, uint32_t value, bool robust) {
  std::memset(mem, 0, byteLength(robust));
  auto* l = static_cast<Layout*>(mem);
  l->value.store(value, std::memory_order_relaxed);
  writeHeader(mem, SyncKind::Semaphore, value, robust ? kRobustFlag : 0);
}

Semaphore::Slot* Semaphore::ownSlot(uint32_t tid) { return robust::slotOf(m_->slots, kHolders, tid); }

Semaphore::Slot* Semaphore::freeSlot(uint32_t tid) {
  for (auto& s : m_->slots) {
    if (s.w.word.load(std::memory_order_relaxed) == 0 && robust::take(&s.w, 0, tid)) {
      held(&s).store(0);
      return &s;
    }
  }
  return nullptr;
}

bool Semaphore::slotAvailable(uint32_t tid) {
  for (auto& s : m_->slots) {
    uint32_t w = s.w.word.load(std::memory_order_relaxed);
    if (w == 0 || robust::owner(w) == tid || robust::ownerDied(w)) return true;
  }
  return false;
}

Semaphore::View Semaphore::view() const {
  View v{value(), m_->sleepers.load(std::memory_order_relaxed), {}};
  if (robust_) {
    for (const auto& s : m_->slots) v.holders.push_back(viewOf(s.w));
  }
  return v;
}

uint32_t Semaphore::held() {
  if (!robust()) return 0;
  Slot* s = ownSlot(robust::selfTid());
  return s != nullptr ? held(s).load() : 0;
}

uint32_t Semaphore::reclaim() {
  if (!robust()) return 0;
  const uint32_t tid = robust::selfTid();
  uint32_t total = 0;
  for (auto& s : m_->slots) {
    uint32_t w = s.w.word.load();
    if (!robust::ownerDied(w)) continue;
    // Take the dead slot on our own robust list first: if we die mid-way, the next one finishes.
    // Keep its waiters bit: the kernel woke one sleeper on the slot, maybe not us; releasing the slot
    // then wakes the others (a thread waiting for a free slot among them).
    if (!robust::take(&s.w, w, tid | (w & robust::kWaiters))) continue;
    uint32_t c = held(&s).exchange(0);  // a crash after this loses c permits: never over-admits
    robust::releaseSlot(&s);
    if (c > 0 && add(c)) total += c;
  }
  return total;
}

Outcome Semaphore::tryAcquire() {
  if (!robust()) {
    uint32_t v = m_->value.load(std::memory_order_relaxed);
    while (v > 0) {
      if (m_->value.compare_exchange_weak(v, v - 1, std::memory_order_acquire)) return Outcome::Acquired;
    }
    return Outcome::Busy;
  }
  const uint32_t tid = robust::selfTid();
  if (m_->value.load() == 0 && reclaim() == 0) return Outcome::Busy;
  Slot* s = ownSlot(tid);
  bool fresh = false;
  if (s == nullptr) {
    s = freeSlot(tid);
    if (s == nullptr) {
      reclaim();  // frees the slots of dead holders
      s = freeSlot(tid);
    }
    if (s == nullptr) return Outcome::Busy;  // kHolders threads hold permits: wait for a slot
    fresh = true;
  }
  uint32_t v = m_->value.load();
  while (v > 0) {
    if (m_->value.compare_exchange_weak(v, v - 1, std::memory_order_seq_cst)) {
      held(s).fetch_add(1);  // a crash just before this loses the permit: never over-admits
      return Outcome::Acquired;
    }
  }
  if (fresh) {
    robust::releaseSlot(s);
  }
  return Outcome::Busy;
}

bool Semaphore::AcquireOp::prepare(WaitSet& ws) {
  Layout* l = s().m_;
  // Count ourselves as a sleeper before the last look at the value, so a release that comes after
  // that look sees us and wakes (a seq_cst pair: our increment then load, its add then load).
  l->sleepers.fetch_add(1);
  uint32_t v = l->value.load();
  const bool robust = s().robust();
  if (v != 0 && (!robust || s().slotAvailable(robust::selfTid()))) {
    l->sleepers.fetch_sub(1);
    return false;
  }
  ws.add(&l->value, v);
  if (robust) {
    // Also sleep on every holder's slot: the kernel wakes us when a holder dies (then we reclaim).
    const uint32_t tid = robust::selfTid();
    for (auto& slot : l->slots) {
      auto& word = slot.w.word;
      uint32_t w = word.load();
      if (w == 0 || robust::owner(w) == tid) continue;
      if (robust::ownerDied(w) || !robust::watch(word, w, ws)) {
        l->sleepers.fetch_sub(1);
        return false;
      }
    }
  }
  return true;
}

void Semaphore::AcquireOp::giveUp() {
  // A release may have woken us as we gave up: hand its wake-up to another sleeper.
  if (s().m_->value.load() > 0 && s().m_->sleepers.load() > 0) futex::wake(futexWord(&s().m_->value), 1);
}

Result<Outcome> Semaphore::acquire(Deadline deadline, const Canceller* c) {
  AcquireOp op(*this);
  return acquireBlocking(op, deadline, c);
}

Status Semaphore::add(uint32_t n) {
  uint32_t v = m_->value.load(std::memory_order_relaxed);
  do {
    if (n > kMaxValue - v) return SysError{EOVERFLOW, "sem_post"};
  } while (!m_->value.compare_exchange_weak(v, v + n, std::memory_order_seq_cst));
  if (m_->sleepers.load() > 0) {
    auto r = futex::wake(futexWord(&m_->value), n > INT_MAX ? INT_MAX : static_cast<int>(n));
    if (!r) return r.error();
  }
  return Ok{};
}

Status Semaphore::release(uint32_t n) {
  if (n == 0) return Ok{};
  if (!robust()) return add(n);
  Slot* s = ownSlot(robust::selfTid());
  if (s == nullptr || held(s).load() < n) return SysError{EPERM, "sem_post"};
  if (held(s).fetch_sub(n) == n) {  // a crash after this loses n permits: never over-admits
    robust::releaseSlot(s);
  }
  return add(n);
}

}  // namespace interproc
