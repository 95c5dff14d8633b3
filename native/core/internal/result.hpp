// Errors as values for the Node-free core: a failed system call is reported as its errno and the
// name of the call, never as an exception, so the binding layer can build a Node-style error
// (code, errno, syscall, path) from it in one place.
#pragma once

#include <cerrno>
#include <utility>
#include <variant>

namespace interproc {

struct SysError {
  int code = 0;              // errno value (positive)
  const char* syscall = "";  // static string: the failing call, e.g. "shm_open"

  static SysError fromErrno(const char* call) { return SysError{errno, call}; }
};

// Result<T>: a T or a SysError. Small and explicit on purpose (std::expected is C++23).
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(SysError error) : v_(error) {}      // NOLINT
  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  const SysError& error() const { return std::get<SysError>(v_); }

 private:
  std::variant<T, SysError> v_;
};

// For operations that return nothing on success.
struct Ok {};
using Status = Result<Ok>;

}  // namespace interproc
