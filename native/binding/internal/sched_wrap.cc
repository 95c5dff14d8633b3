// schedYield(): gives the CPU to another runnable thread, if any (sched_yield(2)); returns at once
// when none waits. For polling loops that may outnumber the cores (a process group in poll mode
// with more members than CPUs, as Open MPI yields when oversubscribed): a member spinning on a
// word that only a descheduled member can change would otherwise burn its whole time slice.
#include <napi.h>
#include <sched.h>

#include "binding/internal/registry.hpp"

namespace interproc::binding {
namespace {

Napi::Value JS_schedYield(const Napi::CallbackInfo& info) {
  sched_yield();
  return info.Env().Undefined();
}

void init(Napi::Env env, Napi::Object exports) { INTERPROC_EXPORT(env, exports, schedYield); }

Registrar registrar(init);

}  // namespace
}  // namespace interproc::binding
