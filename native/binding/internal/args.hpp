// The one set of argument guards of the binding layer. lib/ validates every argument first
// (lib/internal/validate.ts); these are the second line, so that a direct call of the raw binding
// with a bad argument throws instead of crashing or coercing. Strict everywhere: a value of the wrong
// type is a TypeError (code ERR_INVALID_ARG_TYPE), a number outside its range a RangeError
// (ERR_OUT_OF_RANGE), and nothing is ever converted (no ToNumber, no ToBoolean: undefined is never 0,
// which for an fd would be stdin, and no user valueOf() runs inside a call).
//
// The checks are inline and allocate nothing; the messages (Node's wording) are built out of line,
// only when a check fails.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace interproc::binding::args {

// The largest integer a double holds exactly (Number.MAX_SAFE_INTEGER).
inline constexpr double kMaxSafeInteger = 9007199254740991.0;

// The throws behind the guards: `expected` reads "of type number", "an instance of Uint8Array";
// `range` reads "an integer >= 0 && <= 255".
[[noreturn]] void throwType(Napi::Env env, const char* name, const char* expected, Napi::Value received);
[[noreturn]] void throwRange(Napi::Env env, const char* name, const std::string& range, Napi::Value received);

inline bool isInteger(double d) { return d == static_cast<double>(static_cast<int64_t>(d)); }

// A number (any, NaN and infinities included).
inline double number(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsNumber()) throwType(env, name, "of type number", v);
  return v.As<Napi::Number>().DoubleValue();
}

// An integer in [min, max] (both within the safe integers).
[[noreturn]] void throwIntegerRange(Napi::Env env, const char* name, double min, double max, Napi::Value received);
inline int64_t integer(Napi::Env env, Napi::Value v, const char* name, double min, double max) {
  double d = number(env, v, name);
  // NaN fails the first test, fractions and +-Infinity the second (checked before the cast).
  if (!(d >= min && d <= max) || !isInteger(d)) throwIntegerRange(env, name, min, max, v);
  return static_cast<int64_t>(d);
}

inline uint32_t u32(Napi::Env env, Napi::Value v, const char* name) {
  return static_cast<uint32_t>(integer(env, v, name, 0, 4294967295.0));
}

inline int32_t i32(Napi::Env env, Napi::Value v, const char* name) {
  return static_cast<int32_t>(integer(env, v, name, -2147483648.0, 2147483647.0));
}

// A file descriptor: an integer 0..2^31-1.
inline int fd(Napi::Env env, Napi::Value v, const char* name = "fd") {
  return static_cast<int>(integer(env, v, name, 0, 2147483647.0));
}

// The bits of a 32-bit word, given signed or unsigned (an Int32Array's or a Uint32Array's element):
// an integer -2^31..2^32-1.
inline uint32_t word32(Napi::Env env, Napi::Value v, const char* name) {
  return static_cast<uint32_t>(integer(env, v, name, -2147483648.0, 4294967295.0));
}

// A byte offset: a non-negative safe integer, a multiple of `multipleOf` (a power of two).
[[noreturn]] void throwMultiple(Napi::Env env, const char* name, size_t multipleOf, Napi::Value received);
inline size_t offset(Napi::Env env, Napi::Value v, const char* name, size_t multipleOf = 1) {
  auto off = static_cast<size_t>(integer(env, v, name, 0, kMaxSafeInteger));
  if ((off & (multipleOf - 1)) != 0) throwMultiple(env, name, multipleOf, v);
  return off;
}

// A length or a count in bytes or items: a non-negative safe integer.
inline size_t length(Napi::Env env, Napi::Value v, const char* name) {
  return static_cast<size_t>(integer(env, v, name, 0, kMaxSafeInteger));
}

// How many to wake: Infinity (all) or a non-negative safe integer, capped at INT32_MAX (a futex
// wakes at most that many).
inline int wakeCount(Napi::Env env, Napi::Value v, const char* name) {
  if (v.IsNumber() && v.As<Napi::Number>().DoubleValue() == INFINITY) return INT32_MAX;
  size_t n = length(env, v, name);
  return n >= static_cast<size_t>(INT32_MAX) ? INT32_MAX : static_cast<int>(n);
}

// A timeout in milliseconds, as nanoseconds: undefined or Infinity mean none (std::nullopt); otherwise
// a number >= 0 (NaN is refused). 0 means "do not wait". Beyond the range of int64 nanoseconds
// (~292 years) it is none in practice.
[[noreturn]] void throwTimeout(Napi::Env env, const char* name, Napi::Value received);
inline std::optional<int64_t> timeout(Napi::Env env, Napi::Value v, const char* name = "timeout") {
  if (v.IsUndefined()) return std::nullopt;
  double ms = number(env, v, name);
  if (!(ms >= 0)) throwTimeout(env, name, v);  // negative or NaN
  if (ms > 9.2e12) return std::nullopt;        // Infinity included
  return static_cast<int64_t>(ms * 1e6);
}

inline bool boolean(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsBoolean()) throwType(env, name, "of type boolean", v);
  return v.As<Napi::Boolean>().Value();
}

inline std::string string(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsString()) throwType(env, name, "of type string", v);
  return v.As<Napi::String>().Utf8Value();
}

inline Napi::Object object(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsObject()) throwType(env, name, "of type object", v);
  return v.As<Napi::Object>();
}

inline Napi::Function function(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsFunction()) throwType(env, name, "of type function", v);
  return v.As<Napi::Function>();
}

inline Napi::Array array(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsArray()) throwType(env, name, "an instance of Array", v);
  return v.As<Napi::Array>();
}

inline Napi::ArrayBuffer arrayBuffer(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsArrayBuffer()) throwType(env, name, "an instance of ArrayBuffer", v);
  return v.As<Napi::ArrayBuffer>();
}

// The bytes of any typed array (a Buffer, a Uint8Array, an Int32Array...): where they start and how
// many there are. One napi call, no handle made.
struct Bytes {
  uint8_t* data;
  size_t length;
};
Bytes bytes(Napi::Env env, Napi::Value v, const char* name);

// A typed array of exactly one element type (an Int32Array out-array, say): a Uint8Array passed
// where an Int32Array is written to would be overrun four times over.
template <typename T>
struct TypedArrayKind;
template <>
struct TypedArrayKind<uint8_t> {
  static constexpr napi_typedarray_type type = napi_uint8_array;
  static constexpr const char* expected = "an instance of Uint8Array";
};
template <>
struct TypedArrayKind<int32_t> {
  static constexpr napi_typedarray_type type = napi_int32_array;
  static constexpr const char* expected = "an instance of Int32Array";
};
template <>
struct TypedArrayKind<uint32_t> {
  static constexpr napi_typedarray_type type = napi_uint32_array;
  static constexpr const char* expected = "an instance of Uint32Array";
};

template <typename T>
Napi::TypedArrayOf<T> typedArray(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsTypedArray()) throwType(env, name, TypedArrayKind<T>::expected, v);
  auto a = v.As<Napi::TypedArrayOf<T>>();
  if (a.TypedArrayType() != TypedArrayKind<T>::type) throwType(env, name, TypedArrayKind<T>::expected, v);
  return a;
}

// The optional form of any guard: undefined gives `fallback`, anything else must pass `guard`.
//   uint32_t flags = args::optional(env, info[4], "flags", 0u, args::u32);
template <typename T, typename Guard>
T optional(Napi::Env env, Napi::Value v, const char* name, T fallback, Guard guard) {
  return v.IsUndefined() ? fallback : static_cast<T>(guard(env, v, name));
}

}  // namespace interproc::binding::args
