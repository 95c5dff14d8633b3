// The one place where a core SysError becomes a JS error shaped like Node's own system errors:
//   EEXIST: file already exists, shm_open '/name'   { code, errno (negative), syscall, path }
#pragma once

#include <napi.h>

#include <string>

#include "core/internal/result.hpp"

namespace interproc::binding {

Napi::Error systemError(Napi::Env env, const SysError& e, const std::string& path = "");
// A library condition with an ERR_* code, e.g. ERR_INVALID_STATE.
Napi::Error codedError(Napi::Env env, const char* code, const std::string& message);
// The error an AbortSignal produces: name 'AbortError', code 'ABORT_ERR' (the JS side adds the cause).
Napi::Error abortError(Napi::Env env);
Napi::Error typeError(Napi::Env env, const std::string& message);
Napi::Error rangeError(Napi::Env env, const std::string& message);

}  // namespace interproc::binding
