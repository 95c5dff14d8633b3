// The exclusive robust word shared by Mutex (its lock) and RwLock (its writer word): one holder,
// the kernel's robust-futex format, owner death recorded as "inconsistent" in the object's header.
#pragma once

#include "core/sync/robust_list.hpp"
#include "core/sync/sync_header.hpp"
#include "core/sync/wait_set.hpp"

namespace interproc::exclusive {

// One attempt to take `word` for the calling thread. `waited`: the caller slept before, so the
// waiters bit is kept (other sleepers may remain). Acquired, OwnerDead (taken; header.state set to 1),
// NotRecoverable, Deadlock (this thread holds it) or Busy.
Outcome tryTake(RobustWord& word, SyncHeader& header, bool waited);

// Before sleeping on `word`: sets the waiters bit and adds the word to `ws`. False when the state
// changed so that the caller should try again instead of sleeping.
bool prepareSleep(RobustWord& word, WaitSet& ws);

}  // namespace interproc::exclusive
