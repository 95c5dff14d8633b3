// Shared (not FUTEX_PRIVATE) futex wait and wake on a 32-bit word in a MAP_SHARED mapping, so that
// separate processes can sleep on and wake each other. Outcomes mirror Atomics.wait.
#pragma once

#include <cstdint>
#include <optional>

#include "result.hpp"

namespace interproc::futex {

enum class WaitOutcome { Ok, NotEqual, TimedOut };

// Sleeps while *word == expected, until woken or until timeout_ns (relative, CLOCK_MONOTONIC)
// elapses; nullopt waits forever. EINTR is retried with the remaining time.
Result<WaitOutcome> wait(const uint32_t* word, uint32_t expected, std::optional<int64_t> timeout_ns);

// Wakes up to `count` waiters (INT32_MAX for all); returns how many were woken.
Result<int> wake(const uint32_t* word, int count);

const char* outcomeName(WaitOutcome o);

}  // namespace interproc::futex
