// The asynchronous acquire shared by Mutex, Semaphore, Condition, Barrier and RwLock: every attempt
// (which puts robust words on a thread's robust list) runs on the JS thread, so the lock's owner is
// the JS thread, exactly as with the Sync form, and the kernel reports its death. Only the sleep
// (futex_waitv, a system call that touches no memory itself) runs on a BlockingPool thread; when it
// wakes, the JS thread tries again, and sleeps again if it lost the race.
#pragma once

#include <napi.h>

#include <memory>

#include "binding/internal/mapping.hpp"
#include "core/sync/wait_set.hpp"

namespace interproc::binding {

// Starts an async acquire; returns [Promise<outcome code>, id] (id 0 when settled at once).
// `syscall` names the operation in ENOTRECOVERABLE errors. The op's memory must stay valid while
// the mapping is open; keepAlive (the JS object holding the mapping) is referenced until settled.
Napi::Value startAsyncAcquire(Napi::Env env, std::shared_ptr<Mapping> mapping, std::unique_ptr<AcquireOp> op,
                              Deadline deadline, Napi::Object keepAlive, const char* syscall);
// Ends a pending async acquire: its promise rejects with an AbortError, or (closed: the object was
// closed) it gives up at once, on this thread while the memory is still mapped, and rejects with
// ERR_INVALID_STATE. False when already settled.
bool cancelAsyncAcquire(Napi::Env env, uint32_t id, bool closed);

// The error of a wait that found its object's header rewritten (Outcome::LayoutChanged).
Napi::Error layoutChangedError(Napi::Env env);

// Makes closing `mapping` on this thread release every robust word this thread holds in it, as the
// kernel does at thread death (so no robust-list entry can point into unmapped memory).
void abandonOnClose(const std::shared_ptr<Mapping>& mapping);

}  // namespace interproc::binding
