// Element-wise kernels of a process group's reductions: dst[i] = a[i] op b[i], for the built-in
// operations on every numeric element type. Each gives exactly what lib/group/ops.ts's JavaScript
// kernel gives (the group may mix members that take either path, and a 1 M-element reduction in a
// JavaScript loop costs more than the memory it moves), so the integer rules are JavaScript's:
// - sum and product wrap modulo 2^bits, Uint8Clamped saturates at 0 and 255;
// - a 32-bit product is first rounded as a double (JavaScript multiplies in doubles), then wrapped;
// - min and max give NaN when either side is NaN, as Math.min and Math.max do.
#pragma once

#include <cstddef>

#include "core/internal/contract.hpp"

namespace interproc::group {

// dst[i] = a[i] op b[i] for i < n, all three arrays of `type`; dst may be a or b (not a part of
// either). False, and nothing written, for an op or type it has no kernel for (ReduceOp::Function).
bool reduce(contract::ReduceOp op, contract::ElementType type, void* dst, const void* a, const void* b, size_t n);

}  // namespace interproc::group
