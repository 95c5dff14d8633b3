// A core Segment as the binding sees it: shared by the JS handle, the ArrayBuffer's GC finalizer
// and any pending async waits, so whichever goes last frees it and close() can come from any of them.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>

#include "binding/internal/blocking_pool.hpp"
#include "core/shm/shared_memory.hpp"

namespace interproc::binding {

class Mapping {
 public:
  explicit Mapping(Segment seg) : seg_(std::move(seg)) {}
  ~Mapping() { close(); }

  // Unmaps now; cancels every async wait registered on this mapping first. Idempotent.
  void close();
  // Marks the mapping closed and ends its waits, but leaves the memory mapped (for the GC finalizer
  // of a buffer that now owns it).
  void closeKeepingMemory();
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  size_t size() const { return size_; }
  // Where the memory was mapped (kept after close): what identifies the mapping's own ArrayBuffer.
  const void* base() const { return base_; }
  Segment& segment() { return seg_; }
  // Another process truncated the object under the mapping (see Segment::truncated).
  bool truncated() const { return seg_.truncated(); }

  // Address of [offset, offset + length) or nullptr when out of range or closed.
  uint8_t* at(size_t offset, size_t length);

  // Set (on the JS thread) once closing this mapping releases the robust locks the thread holds in
  // it (binding/sync/sync_async.cc, abandonOnClose): checked by every sync operation.
  bool locksReleasedOnClose = false;

  // Async waits on this memory register so close() can end them instead of leaving them asleep.
  // Returns false (and does not register) when already closed.
  bool addWaiter(BlockingJob* job);
  void removeWaiter(BlockingJob* job);

 private:
  Segment seg_;
  size_t size_ = seg_.size();
  const void* base_ = seg_.data();
  std::mutex mutex_;
  std::set<BlockingJob*> waiters_;
  std::atomic<bool> closed_{false};
};

// The JS side holds a mapping as an External; these unwrap it or throw a TypeError. The raw forms
// are for synchronous calls (the External keeps the mapping alive for the call's duration, and they
// skip a shared_ptr copy on hot paths); take a shared reference for anything that outlives the call.
const std::shared_ptr<Mapping>& unwrapMapping(Napi::Env env, Napi::Value handle);
// Like unwrapMapping, but also throws ERR_INVALID_STATE when closed, ERR_SHM_TRUNCATED when truncated.
const std::shared_ptr<Mapping>& unwrapOpenMapping(Napi::Env env, Napi::Value handle);

// ERR_SHM_TRUNCATED for an operation on a truncated mapping.
Napi::Error truncatedError(Napi::Env env);
// Throws ERR_SHM_TRUNCATED when the mapping is truncated: after an operation that touched it (a
// fault there completed on zeros, so its result means nothing).
void requireIntact(Napi::Env env, const Mapping& m);
// The JS error for a failed system call on the mapping's memory: a futex call on a page past the
// object's end fails with EFAULT (no SIGBUS for a system call), which is a truncate: checked (fstat)
// and reported as ERR_SHM_TRUNCATED. Anything else as systemError.
Napi::Error memoryError(Napi::Env env, Mapping& m, const SysError& e);

}  // namespace interproc::binding
