// JS entry points of the blocking pool: cancel a pending job (AbortSignal); a thread count and the
// idle timeout, for tests.
#include <napi.h>

#include "binding/internal/addon_data.hpp"
#include "binding/internal/args.hpp"
#include "binding/internal/errors.hpp"
#include "binding/internal/registry.hpp"

namespace interproc::binding {
namespace {

// blockingCancel(jobId) -> true when the job was still pending
Napi::Value JS_blockingCancel(const Napi::CallbackInfo& info) {
  uint32_t id = args::u32(info.Env(), info[0], "jobId");
  return Napi::Boolean::New(info.Env(), id != 0 && AddonData::of(info.Env()).pool->cancel(id));
}

Napi::Value JS_blockingThreadCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(AddonData::of(info.Env()).pool->threadCount()));
}

// blockingIdleTimeout(ms): for tests, how long a surplus pool thread idles before it ends.
Napi::Value JS_blockingIdleTimeout(const Napi::CallbackInfo& info) {
  double ms = args::number(info.Env(), info[0], "ms");
  if (!(ms >= 1 && ms <= 3.6e6)) args::throwRange(info.Env(), "ms", ">= 1 && <= 3600000", info[0]);
  AddonData::of(info.Env()).pool->setIdleTimeout(std::chrono::milliseconds(static_cast<int64_t>(ms)));
  return info.Env().Undefined();
}

// setWorker(isWorker): told by lib/internal/binding.ts at load.
Napi::Value JS_setWorker(const Napi::CallbackInfo& info) {
  AddonData& data = AddonData::of(info.Env());
  data.isWorker = args::boolean(info.Env(), info[0], "isWorker");
  if (data.noop.IsEmpty()) {
    data.noop = Napi::Persistent(Napi::Function::New(
        info.Env(), [](const Napi::CallbackInfo&) {}, "noop"));
  }
  return info.Env().Undefined();
}

void init(Napi::Env env, Napi::Object exports) {
  INTERPROC_EXPORT(env, exports, setWorker);
  INTERPROC_EXPORT(env, exports, blockingCancel);
  INTERPROC_EXPORT(env, exports, blockingThreadCount);
  INTERPROC_EXPORT(env, exports, blockingIdleTimeout);
}

Registrar registrar(init);

}  // namespace
}  // namespace interproc::binding
