#include "binding/sync/sync_async.hpp"

#include <cerrno>
#include <unordered_map>

#include "binding/internal/addon_data.hpp"
#include "binding/internal/errors.hpp"
#include "core/sync/robust_list.hpp"

namespace interproc::binding {

namespace {

class AsyncAcquire;
// Pending acquires of this thread by id, for AbortSignal (ids outlive each sleep's pool job).
thread_local std::unordered_map<uint32_t, std::weak_ptr<AsyncAcquire>>* pendingById = nullptr;
thread_local uint32_t nextId = 1;

std::unordered_map<uint32_t, std::weak_ptr<AsyncAcquire>>& pending() {
  if (pendingById == nullptr) pendingById = new std::unordered_map<uint32_t, std::weak_ptr<AsyncAcquire>>();
  return *pendingById;
}

class AsyncAcquire : public std::enable_shared_from_this<AsyncAcquire> {
 public:
  AsyncAcquire(Napi::Env env, std::shared_ptr<Mapping> m, std::unique_ptr<AcquireOp> op, Deadline d,
               Napi::Object keepAlive, const char* syscall)
      : mapping_(std::move(m)),
        op_(std::move(op)),
        deadline_(d),
        syscall_(syscall),
        deferred_(Napi::Promise::Deferred::New(env)),
        keepAlive_(Napi::Persistent(keepAlive)) {}
  ~AsyncAcquire() {
    if (!keepAlive_.IsEmpty()) keepAlive_.SuppressDestruct();  // environment teardown
  }

  uint32_t id = 0;
  Canceller canceller;
  bool aborted = false;
  Napi::Promise promise() { return deferred_.Promise(); }

  // JS thread: try, and if busy, prepare and hand the sleep to the pool. False when settled.
  bool step(Napi::Env env, bool waited);
  // JS thread, after a sleep.
  void afterSleep(Napi::Env env, CancelReason reason, const Result<Wake>& r);
  // JS thread, while a sleep is in flight: the object was closed. Gives up now (the memory is still
  // mapped, so giveUp() can pass on a wake-up this wait consumed) and rejects; the sleep's own
  // completion then touches nothing.
  void endClosed(Napi::Env env);

 private:
  void settle(Napi::Env env, Outcome o);
  void fail(Napi::Env env, Napi::Error e);
  void done() {
    keepAlive_.Reset();
    if (id != 0) pending().erase(id);
  }

  std::shared_ptr<Mapping> mapping_;
  std::unique_ptr<AcquireOp> op_;
  bool ended_ = false;  // settled by endClosed() while its sleep was in flight
  Deadline deadline_;
  const char* syscall_;
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference keepAlive_;
};

class SleepJob : public BlockingJob {
 public:
  SleepJob(std::shared_ptr<AsyncAcquire> a, const WaitSet& ws, std::shared_ptr<Mapping> m, Deadline d)
      : a_(std::move(a)), ws_(ws), mapping_(std::move(m)), deadline_(d) {}
  ~SleepJob() override { mapping_->removeWaiter(this); }
  void execute() override {
    if (cancelled()) {
      result_ = Wake::Cancelled;
      return;
    }
    result_ = ws_.wait(deadline_, &a_->canceller);
  }
  void complete(Napi::Env env) override { a_->afterSleep(env, cancelReason(), result_); }

 protected:
  void interrupt() override { a_->canceller.cancel(); }

 private:
  std::shared_ptr<AsyncAcquire> a_;
  WaitSet ws_;
  std::shared_ptr<Mapping> mapping_;
  Deadline deadline_;
  Result<Wake> result_{Wake::Ready};
};

bool AsyncAcquire::step(Napi::Env env, bool waited) {
  for (;;) {
    Outcome o = op_->attempt(waited);
    if (mapping_->truncated()) {  // the attempt may have faulted and run on zeros
      fail(env, truncatedError(env));
      return false;
    }
    // Deadlock here means this JS thread holds the lock itself: wait for it to let go.
    if (o != Outcome::Busy && o != Outcome::Deadlock) {
      settle(env, o);
      return false;
    }
    if (aborted || canceller.cancelled()) {
      op_->giveUp();
      fail(env, abortError(env));
      return false;
    }
    WaitSet ws;
    if (!op_->prepare(ws)) {
      // Held by this thread, yet nothing to sleep on: only this thread could change that (an
      // RwLock read lock being upgraded), so waiting would never end.
      if (o == Outcome::Deadlock) {
        settle(env, o);
        return false;
      }
      waited = true;
      continue;  // the state changed under us: try again at once
    }
    auto job = std::make_unique<SleepJob>(shared_from_this(), ws, mapping_, deadline_);
    if (!mapping_->addWaiter(job.get())) {
      op_->afterWait();
      fail(env, codedError(env, contract::errors::ERR_INVALID_STATE, "SharedMemory is closed"));
      return false;
    }
    AddonData::of(env).pool->submit(std::move(job));
    return true;
  }
}

void AsyncAcquire::endClosed(Napi::Env env) {
  ended_ = true;
  canceller.cancel();
  if (!mapping_->closed()) {  // a closed mapping already ended the sleep, and its memory is gone
    op_->afterWait();
    op_->giveUp();
  }
  fail(env, codedError(env, contract::errors::ERR_INVALID_STATE, "closed while waiting"));
}

void AsyncAcquire::afterSleep(Napi::Env env, CancelReason reason, const Result<Wake>& r) {
  if (ended_) return;  // endClosed() settled it and undid this sleep's preparation
  if (reason == CancelReason::Closed || mapping_->closed()) {
    // The memory is gone: touch nothing (closing released what this thread held there).
    fail(env, codedError(env, contract::errors::ERR_INVALID_STATE, "SharedMemory was closed while waiting"));
    return;
  }
  op_->afterWait();
  if (mapping_->truncated() || (!r && r.error().code == EFAULT)) {  // a truncate ended the sleep
    op_->giveUp();
    fail(env, memoryError(env, *mapping_, r ? SysError{EFAULT, syscall_} : r.error()));
    return;
  }
  if (aborted || reason != CancelReason::None) {
    op_->giveUp();
    fail(env, abortError(env));
    return;
  }
  if (!r) {
    op_->giveUp();
    fail(env, systemError(env, r.error()));
    return;
  }
  if (r.value() == Wake::TimedOut) {
    Outcome o = op_->attempt(true);
    if (o != Outcome::Busy && o != Outcome::Deadlock) {
      settle(env, o);
    } else {
      op_->giveUp();
      settle(env, Outcome::TimedOut);
    }
    return;
  }
  step(env, true);
}

void AsyncAcquire::settle(Napi::Env env, Outcome o) {
  if (o == Outcome::NotRecoverable || o == Outcome::Deadlock) {
    fail(env, systemError(env, SysError{o == Outcome::Deadlock ? EDEADLK : ENOTRECOVERABLE, syscall_}));
    return;
  }
  if (o == Outcome::LayoutChanged) {
    fail(env, layoutChangedError(env));
    return;
  }
  done();
  deferred_.Resolve(Napi::Number::New(env, static_cast<int>(o)));
}

void AsyncAcquire::fail(Napi::Env env, Napi::Error e) {
  done();
  deferred_.Reject(e.Value());
}

// Registered with a mapping like a waiter, so Mapping::close() (on this JS thread: close(), the
// buffer's finalizer, or environment cleanup) reaches it before unmapping.
class AbandonOnClose : public BlockingJob {
 public:
  AbandonOnClose(void* base, size_t size, std::weak_ptr<Mapping> m)
      : base_(base), size_(size), mapping_(std::move(m)) {}
  void execute() override {}
  void complete(Napi::Env) override {}
  const std::weak_ptr<Mapping>& mapping() const { return mapping_; }

 protected:
  void interrupt() override {
    if (done_) return;
    done_ = true;
    robust::abandonRange(base_, size_);
  }

 private:
  void* base_;
  size_t size_;
  std::weak_ptr<Mapping> mapping_;
  bool done_ = false;
};

thread_local std::unordered_map<Mapping*, AbandonOnClose*>* abandoners = nullptr;

}  // namespace

Napi::Value startAsyncAcquire(Napi::Env env, std::shared_ptr<Mapping> mapping, std::unique_ptr<AcquireOp> op,
                              Deadline deadline, Napi::Object keepAlive, const char* syscall) {
  auto a = std::make_shared<AsyncAcquire>(env, std::move(mapping), std::move(op), deadline, keepAlive, syscall);
  Napi::Promise p = a->promise();
  uint32_t id = 0;
  if (a->step(env, false)) {
    id = nextId++;
    if (nextId == 0) nextId = 1;
    a->id = id;
    pending()[id] = a;
  }
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, p);
  out.Set(1u, Napi::Number::New(env, id));
  return out;
}

bool cancelAsyncAcquire(Napi::Env env, uint32_t id, bool closed) {
  auto it = pending().find(id);
  if (it == pending().end()) return false;
  auto a = it->second.lock();
  if (!a) return false;
  if (closed) {
    a->endClosed(env);
    return true;
  }
  a->aborted = true;
  a->canceller.cancel();
  return true;
}

Napi::Error layoutChangedError(Napi::Env env) {
  return codedError(env, contract::errors::ERR_SYNC_LAYOUT_MISMATCH,
                    "the object's header (a Semaphore's robust flag or a Barrier's parties) was rewritten during the "
                    "wait: nothing was taken");
}

void abandonOnClose(const std::shared_ptr<Mapping>& mapping) {
  if (mapping->locksReleasedOnClose) return;
  if (abandoners == nullptr) abandoners = new std::unordered_map<Mapping*, AbandonOnClose*>();
  auto& map = *abandoners;
  auto it = map.find(mapping.get());
  if (it != map.end() && it->second->mapping().lock() == mapping) return;
  // Forget entries of closed mappings (close() never looks at its waiters again).
  for (auto i = map.begin(); i != map.end();) {
    auto m = i->second->mapping().lock();
    if (!m || m->closed()) {
      delete i->second;
      i = map.erase(i);
    } else {
      ++i;
    }
  }
  auto* a = new AbandonOnClose(mapping->segment().data(), mapping->size(), mapping);
  if (!mapping->addWaiter(a)) {
    delete a;
    return;
  }
  map[mapping.get()] = a;
  mapping->locksReleasedOnClose = true;
}

}  // namespace interproc::binding
