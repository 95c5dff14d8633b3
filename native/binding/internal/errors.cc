#include "binding/internal/errors.hpp"

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
// errno -> its symbolic name. Our own table rather than glibc's strerrorname_np, which needs
// glibc 2.32 and would keep a prebuild from loading on older distributions.
const char* errnoName(int code) {
  // The table stays as written: clang-format would break up the macro and never settle.
  switch (code) {
    // clang-format off
#define NAME(e) case e: return #e;
    NAME(EPERM) NAME(ENOENT) NAME(ESRCH) NAME(EINTR) NAME(EIO) NAME(ENXIO) NAME(E2BIG) NAME(EBADF)
    NAME(ECHILD) NAME(EAGAIN) NAME(ENOMEM) NAME(EACCES) NAME(EFAULT) NAME(EBUSY) NAME(EEXIST) NAME(EXDEV)
    NAME(ENODEV) NAME(ENOTDIR) NAME(EISDIR) NAME(EINVAL) NAME(ENFILE) NAME(EMFILE) NAME(ENOTTY) NAME(EFBIG)
    NAME(ENOSPC) NAME(ESPIPE) NAME(EROFS) NAME(EMLINK) NAME(EPIPE) NAME(ERANGE) NAME(EDEADLK)
    NAME(ENAMETOOLONG) NAME(ENOSYS) NAME(ENOTEMPTY) NAME(ELOOP) NAME(EOVERFLOW) NAME(ENOTSOCK)
    NAME(EDESTADDRREQ) NAME(EMSGSIZE) NAME(EPROTOTYPE) NAME(ENOPROTOOPT) NAME(EPROTONOSUPPORT)
    NAME(EOPNOTSUPP) NAME(EAFNOSUPPORT) NAME(EADDRINUSE) NAME(EADDRNOTAVAIL) NAME(ENETDOWN)
    NAME(ENETUNREACH) NAME(ECONNABORTED) NAME(ECONNRESET) NAME(ENOBUFS) NAME(EISCONN) NAME(ENOTCONN)
    NAME(ETIMEDOUT) NAME(ECONNREFUSED) NAME(EHOSTUNREACH) NAME(EALREADY) NAME(EINPROGRESS)
    NAME(ECANCELED) NAME(EOWNERDEAD) NAME(ENOTRECOVERABLE)
#undef NAME
    default: return nullptr;
    // clang-format on
  }
}
}  // namespace

Napi::Error systemError(Napi::Env env, const SysError& e, const std::string& path) {
  const char* name = errnoName(e.code);
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
  err.Set("code", Napi::String::New(env, contract::errors::ABORT_ERR));
  return err;
}

Napi::Error typeError(Napi::Env env, const std::string& message) {
  Napi::Error err = Napi::TypeError::New(env, message);
  err.Set("code", Napi::String::New(env, contract::errors::ERR_INVALID_ARG_TYPE));
  return err;
}

Napi::Error valueError(Napi::Env env, const std::string& message) {
  Napi::Error err = Napi::TypeError::New(env, message);
  err.Set("code", Napi::String::New(env, contract::errors::ERR_INVALID_ARG_VALUE));
  return err;
}

Napi::Error rangeError(Napi::Env env, const std::string& message) {
  Napi::Error err = Napi::RangeError::New(env, message);
  err.Set("code", Napi::String::New(env, contract::errors::ERR_OUT_OF_RANGE));
  return err;
}

}  // namespace interproc::binding
