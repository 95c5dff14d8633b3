// Each *_wrap.cc registers its exports with a static Registrar, so addon.cc stays "module init only"
// and adding a concept never touches a shared file.
#pragma once

#include <napi.h>

#include <vector>

namespace interproc::binding {

using InitFn = void (*)(Napi::Env env, Napi::Object exports);

std::vector<InitFn>& initFunctions();

struct Registrar {
  explicit Registrar(InitFn fn) { initFunctions().push_back(fn); }
};

// exports.<name> = JS_<name>, with the JS name and the function's name written once, so the two
// cannot drift apart.
#define INTERPROC_EXPORT(env, exports, name) (exports).Set(#name, Napi::Function::New((env), JS_##name, #name))

}  // namespace interproc::binding
