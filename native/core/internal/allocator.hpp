// A nudge to glibc's allocator for processes that receive large messages as owned copies.
//
// Owned copies are Buffer.allocUnsafe allocations (malloc). The young-generation GC frees a whole
// batch of them at once; they coalesce into the top of the heap, and glibc returns everything above
// M_TRIM_THRESHOLD (128 KiB by default) to the kernel, so the next batch faults in fresh pages again:
// measured, a stream of 64 KiB copies ran at 2.5-3 GB/s with 90 000-200 000 page faults per 80 000
// messages, and at 5-9 GB/s with the threshold raised (MALLOC_TRIM_THRESHOLD_).
#pragma once

namespace interproc::allocator {

// Raises glibc's dynamic trim threshold once per process by the rule glibc itself applies after any
// large free (malloc.c: freeing an mmapped chunk of size S <= 32 MiB sets the mmap threshold to S
// and the trim threshold to 2 S): it allocates and frees one 16 MiB block, untouched (no page is
// faulted in). A process then keeps up to 32 MiB of freed heap for reuse instead of returning it.
// glibc skips the rule when the thresholds were set explicitly (mallopt, MALLOC_*_ env), so a
// user's own setting always wins. No-op on other C libraries. Thread-safe.
void keepFreedHeap();

}  // namespace interproc::allocator
