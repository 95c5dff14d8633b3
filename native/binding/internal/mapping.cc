#include "binding/internal/mapping.hpp"

#include "binding/internal/errors.hpp"

namespace interproc::binding {

void Mapping::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_.load()) return;
  closed_.store(true, std::memory_order_release);
  for (BlockingJob* job : waiters_) job->cancel(CancelReason::Closed);
  seg_.close();
}

uint8_t* Mapping::at(size_t offset, size_t length) {
  if (closed() || offset > size_ || length > size_ - offset) return nullptr;
  return static_cast<uint8_t*>(seg_.data()) + offset;
}

void Mapping::closeKeepingMemory() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_.load()) return;
  closed_.store(true, std::memory_order_release);
  for (BlockingJob* job : waiters_) job->cancel(CancelReason::Closed);
}

bool Mapping::addWaiter(BlockingJob* job) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_.load()) return false;
  waiters_.insert(job);
  return true;
}

void Mapping::removeWaiter(BlockingJob* job) {
  std::lock_guard<std::mutex> lock(mutex_);
  waiters_.erase(job);
}

const std::shared_ptr<Mapping>& unwrapMapping(Napi::Env env, Napi::Value handle) {
  if (!handle.IsExternal()) throw typeError(env, "expected a SharedMemory handle");
  return *handle.As<Napi::External<std::shared_ptr<Mapping>>>().Data();
}

const std::shared_ptr<Mapping>& unwrapOpenMapping(Napi::Env env, Napi::Value handle) {
  const auto& m = unwrapMapping(env, handle);
  if (m->closed()) throw codedError(env, contract::errors::ERR_INVALID_STATE, "SharedMemory is closed");
  if (m->truncated()) throw truncatedError(env);
  return m;
}

Napi::Error truncatedError(Napi::Env env) {
  return codedError(env, contract::errors::ERR_SHM_TRUNCATED,
                    "another process truncated the shared memory object under this mapping");
}

void requireIntact(Napi::Env env, const Mapping& m) {
  if (m.truncated()) throw truncatedError(env);
}

Napi::Error memoryError(Napi::Env env, Mapping& m, const SysError& e) {
  if (m.truncated() || (e.code == EFAULT && !m.closed() && m.segment().checkTruncated())) return truncatedError(env);
  return systemError(env, e);
}

}  // namespace interproc::binding
