// Shared (not FUTEX_PRIVATE) futex wait and wake on a 32-bit word in a MAP_SHARED mapping, so that
// separate processes can sleep on and wake each other. Outcomes mirror Atomics.wait.
#pragma once

#include <cstdint>
#include <optional>

#include "core/internal/contract.hpp"
#include "core/internal/result.hpp"

namespace interproc::futex {

// Ok, NotEqual, TimedOut: the binding's futexWait returns these codes (native/contract/contract.json).
using WaitOutcome = contract::FutexWaitOutcome;

// Sleeps while *word == expected, until woken or until timeout_ns (relative, CLOCK_MONOTONIC)
// elapses; nullopt waits forever. EINTR is retried with the remaining time.
Result<WaitOutcome> wait(const uint32_t* word, uint32_t expected, std::optional<int64_t> timeout_ns);

// Like wait, but also returns (Cancelled) as soon as the process-private word *cancel is non-zero:
// futex_waitv (Linux 5.16+) sleeps on both words at once, so a cancel that lands just before the
// sleep is never lost (futex_waitv returns EAGAIN when *cancel already differs from 0).
enum class CancellableOutcome { Ok, NotEqual, TimedOut, Cancelled };
Result<CancellableOutcome> waitOrCancel(const uint32_t* word, uint32_t expected, const uint32_t* cancel,
                                        std::optional<int64_t> timeout_ns);
// Sets *cancel and wakes a waitOrCancel sleeping on it (process-private futex).
void cancelWait(uint32_t* cancel);

// Wakes up to `count` waiters (INT32_MAX for all); returns how many were woken.
Result<int> wake(const uint32_t* word, int count);

const char* outcomeName(WaitOutcome o);

}  // namespace interproc::futex
