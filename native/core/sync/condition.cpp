#include "core/sync/condition.hpp"

#include <cstring>

#include "core/shm/futex.hpp"

namespace interproc {

void Condition::init(void* mem) {
  std::memset(mem, 0, kSize);
  writeHeader(mem, SyncKind::Condition, 0);
}

bool Condition::WaitOp::prepare(WaitSet& ws) {
  c().m_->sleepers.fetch_add(1);
  if (c().sequence() != seen_) {
    c().m_->sleepers.fetch_sub(1);
    return false;
  }
  ws.add(&c().m_->seq, seen_);
  return true;
}

void Condition::WaitOp::giveUp() {
  if (c().sequence() != seen_ && c().m_->sleepers.load() > 0) futex::wake(reinterpret_cast<uint32_t*>(&c().m_->seq), 1);
}

Result<int> Condition::notify(int n) {
  m_->seq.fetch_add(1);
  if (m_->sleepers.load() == 0) return 0;
  return futex::wake(reinterpret_cast<uint32_t*>(&m_->seq), n);
}

Result<Outcome> Condition::wait(Mutex& m, Deadline deadline, Outcome* relock, const Canceller* c) {
  uint32_t seen = sequence();
  if (Status s = m.unlock(); !s) return s.error();
  WaitOp op(*this, seen);
  Result<Outcome> r = acquireBlocking(op, deadline, c);
  auto again = m.lock(std::nullopt);
  if (relock != nullptr) *relock = again ? again.value() : Outcome::NotRecoverable;
  return r;
}

}  // namespace interproc
