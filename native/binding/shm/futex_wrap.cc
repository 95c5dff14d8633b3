// JS entry points for futex wait/wake on a word of a SharedMemory mapping. The JS side passes the
// mapping's handle and a byte offset (it found both from the typed array), so no typed-array
// inspection happens on the hot path.
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>
#include <optional>

#include "binding/internal/addon_data.hpp"
#include "binding/internal/args.hpp"
#include "binding/internal/errors.hpp"
#include "binding/internal/mapping.hpp"
#include "binding/internal/registry.hpp"
#include "core/shm/futex.hpp"

namespace interproc::binding {
namespace {

using MappingRef = std::shared_ptr<Mapping>;

Napi::Value pendingResult(Napi::Env env, Napi::Promise p, uint32_t id) {
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, p);
  out.Set(1u, Napi::Number::New(env, id));
  return out;
}

// The aligned 32-bit word at a byte offset of the mapping.
const uint32_t* wordArg(Napi::Env env, const MappingRef& m, Napi::Value offsetValue) {
  size_t off = args::offset(env, offsetValue, "byteOffset", 4);
  uint8_t* p = m->at(off, 4);
  if (p == nullptr) throw rangeError(env, "byte offset " + std::to_string(off) + " is outside the mapping");
  return reinterpret_cast<const uint32_t*>(p);
}

// futexWait(handle, byteOffset, expected, timeoutMs?) -> 0 ok | 1 not-equal | 2 timed-out (undefined:
// the worker is being terminated). A number, not a string: a sync wait returns one after every sleep,
// and making a string costs an allocation (and the code pages of making one) on that path.
Napi::Value JS_futexWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t expected = args::word32(env, info[2], "expected");
  std::optional<int64_t> timeout = args::timeout(env, info[3]);
  const MappingRef& m = unwrapOpenMapping(env, info[0]);
  const uint32_t* word = wordArg(env, m, info[1]);
  AddonData& data = AddonData::of(env);
  if (!data.isWorker) {
    auto r = futex::wait(word, expected, timeout);
    if (!r) throw memoryError(env, *m, r.error());
    requireIntact(env, *m);  // a truncate ends the sleep
    return Napi::Number::New(env, static_cast<int>(r.value()));
  }
  // In a worker thread: sleep in slices so worker.terminate() (which cannot interrupt a futex sleep)
  // is noticed. A word that changed between slices counts as woken.
  constexpr int64_t kSliceNs = 50'000'000;
  int64_t left = timeout ? *timeout : INT64_MAX;
  bool first = true;
  for (;;) {
    int64_t slice = std::min(left, kSliceNs);
    auto r = futex::wait(word, expected, slice);
    if (!r) throw memoryError(env, *m, r.error());
    requireIntact(env, *m);
    futex::WaitOutcome o = r.value();
    if (o == futex::WaitOutcome::NotEqual && !first) o = futex::WaitOutcome::Ok;
    if (o != futex::WaitOutcome::TimedOut || left <= slice) return Napi::Number::New(env, static_cast<int>(o));
    left -= slice;
    first = false;
    if (data.terminating(env)) return env.Undefined();
  }
}

// futexWake(handle, byteOffset, count) -> number woken
Napi::Value JS_futexWake(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int count = args::wakeCount(env, info[2], "count");
  const MappingRef& m = unwrapOpenMapping(env, info[0]);
  const uint32_t* word = wordArg(env, m, info[1]);
  auto r = futex::wake(word, count);
  if (!r) throw memoryError(env, *m, r.error());
  return Napi::Number::New(env, r.value());
}

class FutexWaitJob : public BlockingJob {
 public:
  FutexWaitJob(Napi::Env env, MappingRef m, const uint32_t* word, uint32_t expected, std::optional<int64_t> timeout,
               Napi::Object keepAlive)
      : mapping_(std::move(m)),
        word_(word),
        expected_(expected),
        timeout_(timeout),
        deferred_(Napi::Promise::Deferred::New(env)),
        keepAlive_(Napi::Persistent(keepAlive)) {}
  ~FutexWaitJob() override {
    mapping_->removeWaiter(this);
    if (!keepAlive_.IsEmpty()) keepAlive_.SuppressDestruct();  // teardown path: env is gone
  }
  Napi::Promise promise() { return deferred_.Promise(); }

  void execute() override {
    // Sleeps on the shared word and on this job's private cancel word at once, so an abort or a
    // close() can never be lost in the instant before the sleep, and never wakes other waiters.
    auto r = futex::waitOrCancel(word_, expected_, &cancelWord_, timeout_);
    if (!r) {
      result_ = r.error();
      return;
    }
    switch (r.value()) {
      case futex::CancellableOutcome::Ok: result_ = futex::WaitOutcome::Ok; break;
      case futex::CancellableOutcome::NotEqual: result_ = futex::WaitOutcome::NotEqual; break;
      case futex::CancellableOutcome::TimedOut: result_ = futex::WaitOutcome::TimedOut; break;
      case futex::CancellableOutcome::Cancelled: break;  // complete() reports cancelReason()
    }
  }
  void complete(Napi::Env env) override {
    keepAlive_.Reset();
    if (!mapping_->closed() && (mapping_->truncated() || (!result_ && result_.error().code == EFAULT))) {
      // A truncate ended the sleep (or the word's page was already gone: EFAULT).
      deferred_.Reject(
          memoryError(env, *mapping_, result_ ? SysError{EFAULT, "futex_waitv"} : result_.error()).Value());
    } else if (cancelReason() == CancelReason::Aborted && !finishedFirst()) {
      deferred_.Reject(abortError(env).Value());
    } else if (cancelled() && !finishedFirst()) {
      deferred_.Reject(
          codedError(env, contract::errors::ERR_INVALID_STATE, "SharedMemory was closed during futex.waitAsync")
              .Value());
    } else if (!result_) {
      deferred_.Reject(systemError(env, result_.error()).Value());
    } else {
      // The word was equal when the promise was made; a later change seen as EAGAIN means a
      // waker got in before this thread slept, which counts as being woken.
      futex::WaitOutcome o = result_.value();
      if (o == futex::WaitOutcome::NotEqual) o = futex::WaitOutcome::Ok;
      deferred_.Resolve(Napi::String::New(env, futex::outcomeName(o)));
    }
  }

 protected:
  void interrupt() override { futex::cancelWait(&cancelWord_); }

 private:
  MappingRef mapping_;
  const uint32_t* word_;
  uint32_t expected_;
  std::optional<int64_t> timeout_;
  uint32_t cancelWord_ = 0;  // process-private futex: non-zero once cancelled
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference keepAlive_;
  Result<futex::WaitOutcome> result_{futex::WaitOutcome::TimedOut};
};

// futexWaitAsync(handle, byteOffset, expected, timeoutMs?, keepAlive) -> [Promise<outcome>, jobId]
// (jobId 0 when settled at once); blockingCancel(jobId) aborts it.
Napi::Value JS_futexWaitAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // Every argument is checked before state or pointers (the guards run no user code anyway).
  uint32_t expected = args::word32(env, info[2], "expected");
  std::optional<int64_t> timeout = args::timeout(env, info[3]);
  Napi::Object keepAlive = args::object(env, info[4], "keepAlive");
  MappingRef m = unwrapOpenMapping(env, info[0]);
  const uint32_t* word = wordArg(env, m, info[1]);
  // Settle at once what needs no thread: a differing value, or a zero timeout.
  const char* now = nullptr;
  bool differs = __atomic_load_n(word, __ATOMIC_SEQ_CST) != expected;
  requireIntact(env, *m);  // that load may have faulted (and read zeros)
  if (differs) now = "not-equal";
  else if (timeout && *timeout == 0) now = "timed-out";
  if (now != nullptr) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Resolve(Napi::String::New(env, now));
    return pendingResult(env, d.Promise(), 0);
  }
  auto job = std::make_unique<FutexWaitJob>(env, m, word, expected, timeout, keepAlive);
  Napi::Promise p = job->promise();
  if (!m->addWaiter(job.get())) throw codedError(env, contract::errors::ERR_INVALID_STATE, "SharedMemory is closed");
  uint32_t id = AddonData::of(env).pool->submit(std::move(job));
  return pendingResult(env, p, id);
}

void init(Napi::Env env, Napi::Object exports) {
  INTERPROC_EXPORT(env, exports, futexWait);
  INTERPROC_EXPORT(env, exports, futexWake);
  INTERPROC_EXPORT(env, exports, futexWaitAsync);
}

Registrar registrar(init);

}  // namespace
}  // namespace interproc::binding
