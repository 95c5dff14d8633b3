// Doorbells that wake another process's event loop: an eventfd per mailbox member, watched by libuv
// in the owner, rung by peers that fetched a duplicate of it with pidfd_getfd(2) (Linux 5.6+; needs
// ptrace-attach permission over the owner: same uid without Yama restrictions, or CAP_SYS_PTRACE).
// The owner's sync waits sleep on it too, together with the pidfd of the peer they wait on (waitAny).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "core/internal/contract.hpp"
#include "core/internal/result.hpp"

namespace interproc::doorbell {

// A non-blocking, close-on-exec eventfd.
Result<int> create();
// Adds 1 to the counter (wakes a poller). EAGAIN (counter saturated) counts as rung.
Status ring(int fd);
// Resets the counter; returns true if it was non-zero. EINVAL for an fd that reads other than 8 bytes
// (not an eventfd).
Result<bool> drain(int fd);
// A duplicate, in this process, of descriptor `fd` of process `pid` (pidfd_open + pidfd_getfd).
// EBADF when that descriptor is not an eventfd (the number came from shared memory: never trusted).
Result<int> fetch(pid_t pid, int fd);
// Whether `fd` is an eventfd of this process (a /proc/self/fd readlink).
bool isEventfd(int fd);
Status close(int fd);

// How waitAny ended (native/contract/contract.json): Rung, NotEqual, TimedOut, PeerEnded or BellOnly.
using WaitOutcome = contract::DoorbellWaitOutcome;
struct WaitEnd {
  WaitOutcome outcome;
  size_t pidfd = 0;  // with PeerEnded: the index in `pidfds` of the one that became readable
};
// The most pidfds one waitAny sleeps on (a group's other members).
constexpr size_t kMaxWaitPidfds = 63;
// A blocking sleep on this member's doorbell that the end of a peer also ends. Resets the eventfd
// `efd`, then returns NotEqual at once if the bell word *bell (in the group's segment) moved from
// `seen` (a wake-up since the caller read it, whose ring the reset may just have taken); otherwise
// sleeps in ppoll until `efd` is rung (Rung), one of `pidfds` becomes readable, which a pidfd does
// when its process has ended (PeerEnded, preferred when both happened), or `timeout_ns` pass
// (TimedOut; nullopt: no limit; BellOnly when the bell moved meanwhile without a ring: a waker that
// cannot reach the eventfd). EINTR is retried with the time left. The reset is why a wake-up is
// never lost: a waker bumps the bell before it rings, so a ring the reset took is seen in the bell.
Result<WaitEnd> waitAny(int efd, const uint32_t* bell, uint32_t seen, std::span<const int> pidfds,
                        std::optional<int64_t> timeout_ns);

}  // namespace interproc::doorbell
