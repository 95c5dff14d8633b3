// The one place where a core SysError becomes a JS error shaped like Node's own system errors:
//   EEXIST: file already exists, shm_open '/name'   { code, errno (negative), syscall, path }
#pragma once

#include <napi.h>

#include <string>

#include "core/internal/contract.hpp"
#include "core/internal/result.hpp"

namespace interproc::binding {

Napi::Error systemError(Napi::Env env, const SysError& e, const std::string& path = "");
// A library condition with a code of the catalogue: pass the generated constant
// (contract::errors::ERR_INVALID_STATE from core/internal/contract.hpp), never a literal, so the code
// cannot drift from docs/errors.md.
Napi::Error codedError(Napi::Env env, const char* code, const std::string& message);
// The error an AbortSignal produces: name 'AbortError', code 'ABORT_ERR' (the JS side adds the cause).
Napi::Error abortError(Napi::Env env);
// Argument errors with Node's codes (binding/internal/args.hpp throws them): a TypeError with
// ERR_INVALID_ARG_TYPE (wrong type) or ERR_INVALID_ARG_VALUE (a value not allowed), a RangeError
// with ERR_OUT_OF_RANGE.
Napi::Error typeError(Napi::Env env, const std::string& message);
Napi::Error valueError(Napi::Env env, const std::string& message);
Napi::Error rangeError(Napi::Env env, const std::string& message);

}  // namespace interproc::binding
