#include "binding/internal/args.hpp"

#include <cmath>

#include "binding/internal/errors.hpp"

namespace interproc::binding::args {

namespace {

const char* typedArrayName(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "TypedArray";
  }
}

// A number as JS prints it (a primitive's ToString runs no user code).
std::string numberText(Napi::Value v) { return v.ToString().Utf8Value(); }

// "Received ..." as Node's ERR_INVALID_ARG_TYPE says it. Runs no user code (no getters, no valueOf).
std::string received(Napi::Value v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return std::string("type boolean (") + (v.As<Napi::Boolean>().Value() ? "true" : "false") + ")";
    case napi_number: return "type number (" + numberText(v) + ")";
    case napi_bigint: return "type bigint";
    case napi_symbol: return "type symbol";
    case napi_string: {
      std::string s = v.As<Napi::String>().Utf8Value();
      if (s.size() > 28) s = s.substr(0, 25) + "...";
      return "type string ('" + s + "')";
    }
    case napi_function: return "function";
    case napi_external: return "an external";
    default: break;
  }
  if (v.IsTypedArray())
    return std::string("an instance of ") + typedArrayName(v.As<Napi::TypedArray>().TypedArrayType());
  if (v.IsArray()) return "an instance of Array";
  if (v.IsArrayBuffer()) return "an instance of ArrayBuffer";
  if (v.IsDataView()) return "an instance of DataView";
  return "an object";
}

}  // namespace

void throwType(Napi::Env env, const char* name, const char* expected, Napi::Value v) {
  throw typeError(env, std::string("The \"") + name + "\" argument must be " + expected + ". Received " + received(v));
}

void throwRange(Napi::Env env, const char* name, const std::string& range, Napi::Value v) {
  std::string got = v.IsNumber() ? numberText(v) : received(v);
  throw rangeError(
      env, std::string("The value of \"") + name + "\" is out of range. It must be " + range + ". Received " + got);
}

void throwIntegerRange(Napi::Env env, const char* name, double min, double max, Napi::Value v) {
  auto text = [](double d) {
    return d == kMaxSafeInteger ? std::string("9007199254740991") : std::to_string(static_cast<int64_t>(d));
  };
  throwRange(env, name, "an integer >= " + text(min) + " && <= " + text(max), v);
}

void throwMultiple(Napi::Env env, const char* name, size_t multipleOf, Napi::Value v) {
  throwRange(env, name, "a multiple of " + std::to_string(multipleOf), v);
}

void throwTimeout(Napi::Env env, const char* name, Napi::Value v) {
  throwRange(env, name, "a number >= 0 (or undefined or Infinity: no limit)", v);
}

Bytes bytes(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsTypedArray()) throwType(env, name, "an instance of Uint8Array or another TypedArray", v);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_status s = napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr);
  NAPI_THROW_IF_FAILED(env, s, (Bytes{nullptr, 0}));
  size_t element = 1;
  switch (type) {
    case napi_int16_array:
    case napi_uint16_array: element = 2; break;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array: element = 4; break;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array: element = 8; break;
    default: break;
  }
  return Bytes{static_cast<uint8_t*>(data), length * element};
}

}  // namespace interproc::binding::args
