// JS entry point of the group's native reduction kernels (core/group/reduce.hpp), called by
// lib/group/ops.ts for arrays long enough that a call costs less than a JavaScript loop.
#include <napi.h>

#include "binding/internal/args.hpp"
#include "binding/internal/errors.hpp"
#include "binding/internal/registry.hpp"
#include "core/group/reduce.hpp"

namespace interproc::binding {
namespace {

using contract::ElementType;

ElementType elementTypeOf(napi_typedarray_type t, bool& ok) {
  ok = true;
  switch (t) {
    case napi_int8_array: return ElementType::Int8;
    case napi_uint8_array: return ElementType::Uint8;
    case napi_uint8_clamped_array: return ElementType::Uint8Clamped;
    case napi_int16_array: return ElementType::Int16;
    case napi_uint16_array: return ElementType::Uint16;
    case napi_int32_array: return ElementType::Int32;
    case napi_uint32_array: return ElementType::Uint32;
    case napi_float32_array: return ElementType::Float32;
    case napi_float64_array: return ElementType::Float64;
    case napi_bigint64_array: return ElementType::BigInt64;
    case napi_biguint64_array: return ElementType::BigUint64;
    default: ok = false; return ElementType::Int8;
  }
}

// The typed array's memory, checked to be of `type` with at least n elements.
void* elementsOf(Napi::Env env, Napi::Value v, ElementType type, size_t n, const char* name) {
  if (!v.IsTypedArray()) throw typeError(env, std::string("The argument '") + name + "' must be a typed array");
  auto t = v.As<Napi::TypedArray>();
  bool ok = false;
  if (elementTypeOf(t.TypedArrayType(), ok) != type || !ok)
    throw typeError(env, std::string("The argument '") + name + "' has another element type than the reduction");
  if (t.ElementLength() < n) throw rangeError(env, std::string("The argument '") + name + "' is shorter than n");
  return static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
}

// groupReduce(op, type, dst, a, b, n): dst[i] = a[i] op b[i] for i < n.
Napi::Value JS_groupReduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t op = args::u32(env, info[0], "op");
  uint32_t type = args::u32(env, info[1], "type");
  if (type > static_cast<uint32_t>(ElementType::BigUint64)) throw rangeError(env, "unknown element type");
  auto et = static_cast<ElementType>(type);
  size_t n = args::length(env, info[5], "n");
  void* dst = elementsOf(env, info[2], et, n, "dst");
  void* a = elementsOf(env, info[3], et, n, "a");
  void* b = elementsOf(env, info[4], et, n, "b");
  if (op > 255 || !group::reduce(static_cast<contract::ReduceOp>(op), et, dst, a, b, n))
    throw rangeError(env, "no native kernel for op " + std::to_string(op));
  return env.Undefined();
}

void init(Napi::Env env, Napi::Object exports) { INTERPROC_EXPORT(env, exports, groupReduce); }

Registrar registrar(init);

}  // namespace
}  // namespace interproc::binding
