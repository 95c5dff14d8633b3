#include "core/sync/barrier.hpp"

#include <cerrno>
#include <climits>
#include <cstring>

#include "core/shm/futex.hpp"

namespace interproc {

void Barrier::init(void* mem, uint32_t parties) {
  std::memset(mem, 0, byteLength(parties));
  writeHeader(mem, SyncKind::Barrier, parties);
}

Barrier::Slot* Barrier::ownSlot() {
  const uint32_t tid = robust::selfTid();
  if (Slot* s = robust::slotOf(m_->slots, parties(), tid)) return s;
  for (uint32_t i = 0; i < parties(); ++i) {
    if (m_->slots[i].w.word.load() == 0 && robust::take(&m_->slots[i].w, 0, tid)) {
      // Parties already asleep do not watch this slot yet: wake them to add it to their wait set.
      m_->joins.fetch_add(1);
      futex::wake(futexWord(&m_->joins), INT_MAX);
      return &m_->slots[i];
    }
  }
  return nullptr;
}

Barrier::View Barrier::view() const {
  View v{m_->arrived.load(std::memory_order_relaxed), generation(), broken(), {}};
  for (uint32_t i = 0; i < parties(); ++i) v.parties.push_back(viewOf(m_->slots[i].w));
  return v;
}

bool Barrier::anyGone() const {
  for (uint32_t i = 0; i < parties(); ++i) {
    if (robust::ownerDied(m_->slots[i].w.word.load())) return true;
  }
  return false;
}

void Barrier::breakBarrier() {
  m_->broken.store(1);
  futex::wake(futexWord(&m_->broken), INT_MAX);
  futex::wake(futexWord(&m_->generation), INT_MAX);
}

Result<Barrier::Arrival> Barrier::arrive() {
  if (!layoutIntact()) return Arrival{Outcome::LayoutChanged, generation()};
  if (broken()) return Arrival{Outcome::Broken, generation()};
  if (ownSlot() == nullptr) return SysError{EUSERS, "barrier_wait"};
  if (anyGone()) {
    breakBarrier();
    return Arrival{Outcome::Broken, generation()};
  }
  uint32_t g = m_->generation.load(std::memory_order_acquire);
  uint32_t a = m_->arrived.fetch_add(1) + 1;
  if (a >= parties()) {
    m_->arrived.store(0);
    m_->generation.fetch_add(1, std::memory_order_release);
    futex::wake(futexWord(&m_->generation), INT_MAX);
    return Arrival{Outcome::Acquired, g};
  }
  return Arrival{Outcome::Busy, g};
}

Outcome Barrier::PassOp::attempt(bool) {
  if (!b().layoutIntact()) {
    b().breakBarrier();  // the words it writes are in the header line, inside the object whatever its size
    return Outcome::LayoutChanged;
  }
  if (b().m_->generation.load(std::memory_order_acquire) != g_) return Outcome::Acquired;
  if (b().broken()) return Outcome::Broken;
  if (b().anyGone()) {
    b().breakBarrier();
    return Outcome::Broken;
  }
  return Outcome::Busy;
}

bool Barrier::PassOp::prepare(WaitSet& ws) {
  uint32_t joins = b().m_->joins.load();  // read before the slots: a later join changes it
  ws.add(&b().m_->generation, g_);
  ws.add(&b().m_->broken, 0);
  ws.add(&b().m_->joins, joins);
  const uint32_t tid = robust::selfTid();
  for (uint32_t i = 0; i < b().parties(); ++i) {
    auto& word = b().m_->slots[i].w.word;
    uint32_t w = word.load();
    if (w == 0 || robust::owner(w) == tid) continue;
    if (robust::ownerDied(w)) return false;  // attempt() breaks it
    if (!robust::watch(word, w, ws)) return false;
  }
  return true;
}

Result<Outcome> Barrier::wait(Deadline deadline, bool* serial, const Canceller* c) {
  auto a = arrive();
  if (!a) return a.error();
  if (serial != nullptr) *serial = a.value().outcome == Outcome::Acquired;
  if (a.value().outcome != Outcome::Busy) return a.value().outcome;
  PassOp op(*this, a.value().generation);
  return acquireBlocking(op, deadline, c);
}

void Barrier::leave() {
  const uint32_t tid = robust::selfTid();
  for (uint32_t i = 0; i < parties(); ++i) {
    RobustWord* w = &m_->slots[i].w;
    if (robust::owner(w->word.load()) == tid) {
      robust::release(w, robust::kOwnerDied);
      futex::wake(futexWord(&w->word), INT_MAX);
    }
  }
}

void Barrier::reset() {
  for (uint32_t i = 0; i < parties(); ++i) {
    uint32_t w = m_->slots[i].w.word.load();
    if (robust::ownerDied(w)) m_->slots[i].w.word.compare_exchange_strong(w, 0);
  }
  m_->arrived.store(0);
  m_->broken.store(0);
  m_->generation.fetch_add(1);
  futex::wake(futexWord(&m_->generation), INT_MAX);
}

}  // namespace interproc
