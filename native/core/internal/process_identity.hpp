// Who a process is, robust against pid reuse: its pid plus its start time (clock ticks since boot,
// field 22 of /proc/<pid>/stat). A member slot records both; the member is alive while a process
// with that pid exists and started at that time.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace interproc::process_identity {

// Start time of `pid`, or -1 when there is no such process (or it is a zombie: it has exited).
int64_t startTime(pid_t pid);
bool alive(pid_t pid, int64_t start);

}  // namespace interproc::process_identity
