// Module init only: every concept registers its own exports (see registry.hpp).
#include <napi.h>

#include "binding/internal/addon_data.hpp"
#include "binding/internal/registry.hpp"

namespace interproc::binding {

std::vector<InitFn>& initFunctions() {
  static std::vector<InitFn> fns;
  return fns;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  AddonData::install(env);
  for (InitFn fn : initFunctions()) fn(env, exports);
  return exports;
}

}  // namespace interproc::binding

static Napi::Object InitInterproc(Napi::Env env, Napi::Object exports) {
  return interproc::binding::Init(env, exports);
}
NODE_API_MODULE(interproc, InitInterproc)
