#include "core/group/reduce.hpp"

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace interproc::group {

namespace {

using contract::ElementType;
using contract::ReduceOp;

// Wrapping arithmetic on an integer type's bits, as a typed array's store of JavaScript's result does.
template <typename T>
T wrapAdd(T x, T y) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(x) + static_cast<U>(y)));
}

template <typename T>
T wrapMul(T x, T y) {
  if constexpr (sizeof(T) == 4) {
    // JavaScript's x * y is a double, rounded once past 2^53; ToInt32/ToUint32 then wraps that value.
    double p = static_cast<double>(x) * static_cast<double>(y);
    double m = std::fmod(p, 4294967296.0);  // exact
    if (m < 0) m += 4294967296.0;           // exact: an integer below 2^32 in magnitude
    return static_cast<T>(static_cast<uint32_t>(m));
  } else {
    // 8- and 16-bit products are exact in a double; 64-bit ones are BigInt's, exact: both wrap alike.
    using U = std::make_unsigned_t<T>;
    using Wide = std::conditional_t<(sizeof(T) < 8), uint32_t, uint64_t>;
    return static_cast<T>(static_cast<U>(static_cast<Wide>(static_cast<U>(x)) * static_cast<Wide>(static_cast<U>(y))));
  }
}

template <typename T>
void sumOf(T* d, const T* a, const T* b, size_t n) {
  if constexpr (std::is_floating_point_v<T>) {
    for (size_t i = 0; i < n; ++i) d[i] = a[i] + b[i];
  } else {
    for (size_t i = 0; i < n; ++i) d[i] = wrapAdd(a[i], b[i]);
  }
}

template <typename T>
void productOf(T* d, const T* a, const T* b, size_t n) {
  if constexpr (std::is_floating_point_v<T>) {
    for (size_t i = 0; i < n; ++i) d[i] = a[i] * b[i];
  } else {
    for (size_t i = 0; i < n; ++i) d[i] = wrapMul(a[i], b[i]);
  }
}

// Branch-free selects, so the loops vectorise; for floats NaN on either side gives NaN.
template <typename T>
void minOf(T* d, const T* a, const T* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    T u = a[i], v = b[i];
    T m = v < u ? v : u;
    if constexpr (std::is_floating_point_v<T>) m = (u != u || v != v) ? u + v : m;
    d[i] = m;
  }
}

template <typename T>
void maxOf(T* d, const T* a, const T* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    T u = a[i], v = b[i];
    T m = v > u ? v : u;
    if constexpr (std::is_floating_point_v<T>) m = (u != u || v != v) ? u + v : m;
    d[i] = m;
  }
}

// Uint8Clamped: JavaScript stores min(255, max(0, round(x))) of the exact result.
void clampedSum(uint8_t* d, const uint8_t* a, const uint8_t* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    unsigned s = unsigned{a[i]} + unsigned{b[i]};
    d[i] = static_cast<uint8_t>(s > 255 ? 255 : s);
  }
}

void clampedProduct(uint8_t* d, const uint8_t* a, const uint8_t* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    unsigned p = unsigned{a[i]} * unsigned{b[i]};
    d[i] = static_cast<uint8_t>(p > 255 ? 255 : p);
  }
}

template <typename T>
bool run(ReduceOp op, void* dst, const void* a, const void* b, size_t n) {
  auto* d = static_cast<T*>(dst);
  auto* x = static_cast<const T*>(a);
  auto* y = static_cast<const T*>(b);
  switch (op) {
    case ReduceOp::Sum: sumOf(d, x, y, n); return true;
    case ReduceOp::Product: productOf(d, x, y, n); return true;
    case ReduceOp::Min: minOf(d, x, y, n); return true;
    case ReduceOp::Max: maxOf(d, x, y, n); return true;
    default: return false;
  }
}

}  // namespace

bool reduce(ReduceOp op, ElementType type, void* dst, const void* a, const void* b, size_t n) {
  switch (type) {
    case ElementType::Int8: return run<int8_t>(op, dst, a, b, n);
    case ElementType::Uint8: return run<uint8_t>(op, dst, a, b, n);
    case ElementType::Uint8Clamped:
      if (op == ReduceOp::Sum) {
        clampedSum(static_cast<uint8_t*>(dst), static_cast<const uint8_t*>(a), static_cast<const uint8_t*>(b), n);
        return true;
      }
      if (op == ReduceOp::Product) {
        clampedProduct(static_cast<uint8_t*>(dst), static_cast<const uint8_t*>(a), static_cast<const uint8_t*>(b), n);
        return true;
      }
      return run<uint8_t>(op, dst, a, b, n);
    case ElementType::Int16: return run<int16_t>(op, dst, a, b, n);
    case ElementType::Uint16: return run<uint16_t>(op, dst, a, b, n);
    case ElementType::Int32: return run<int32_t>(op, dst, a, b, n);
    case ElementType::Uint32: return run<uint32_t>(op, dst, a, b, n);
    case ElementType::Float32: return run<float>(op, dst, a, b, n);
    case ElementType::Float64: return run<double>(op, dst, a, b, n);
    case ElementType::BigInt64: return run<int64_t>(op, dst, a, b, n);
    case ElementType::BigUint64: return run<uint64_t>(op, dst, a, b, n);
  }
  return false;
}

}  // namespace interproc::group
