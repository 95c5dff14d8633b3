#include "errors.hpp"

#include <cstring>

namespace interproc::binding {

namespace {
// libuv's wording where it differs from glibc's, so messages read as Node's do.
const char* describe(int code) {
  switch (code) {
    case EEXIST: return "file already exists";
    case ENOENT: return "no such file or directory";
    case EACCES: return "permission denied";
    case EINVAL: return "invalid argument";
    case ENAMETOOLONG: return "name too long";
    case EMFILE: return "too many open files";
    case ENOMEM: return "not enough memory";
    case ENOSPC: return "no space left on device";
    case EPERM: return "operation not permitted";
    case EBADF: return "bad file descriptor";
    default: return nullptr;
  }
}
}  // namespace

Napi::Error systemError(Napi::Env env, const SysError& e, const std::string& path) {
  const char* name = strerrorname_np(e.code);
  std::string code = name != nullptr ? name : "E" + std::to_string(e.code);
  std::string text;
  if (const char* d = describe(e.code)) {
    text = d;
  } else {
    text = strerror(e.code);
    if (!text.empty()) text[0] = static_cast<char>(std::tolower(text[0]));
  }
  std::string message = code + ": " + text + ", " + e.syscall;
  if (!path.empty()) message += " '" + path + "'";
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("errno", Napi::Number::New(env, -e.code));
  err.Set("code", Napi::String::New(env, code));
  err.Set("syscall", Napi::String::New(env, e.syscall));
  if (!path.empty()) err.Set("path", Napi::String::New(env, path));
  return err;
}

Napi::Error codedError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

Napi::Error abortError(Napi::Env env) {
  Napi::Error err = Napi::Error::New(env, "The operation was aborted");
  err.Set("name", Napi::String::New(env, "AbortError"));
  err.Set("code", Napi::String::New(env, "ABORT_ERR"));
  return err;
}

Napi::Error typeError(Napi::Env env, const std::string& message) {
  Napi::Error err = Napi::TypeError::New(env, message);
  err.Set("code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
  return err;
}

Napi::Error rangeError(Napi::Env env, const std::string& message) {
  Napi::Error err = Napi::RangeError::New(env, message);
  err.Set("code", Napi::String::New(env, "ERR_OUT_OF_RANGE"));
  return err;
}

}  // namespace interproc::binding
