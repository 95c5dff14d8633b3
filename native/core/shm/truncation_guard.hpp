// Surviving a segment that another process truncates under our mapping (ftruncate of /dev/shm/NAME):
// touching a page past the object's new end raises SIGBUS, which would kill the process. As Wayland
// compositors do for wl_shm buffers, a SIGBUS handler recognises a fault inside a mapping this library
// made, maps anonymous zero pages over the lost range (MAP_FIXED), marks the mapping truncated and
// returns, so the faulting access completes (on zeros) and every later operation can fail cleanly.
// Faults elsewhere go to the previous disposition unchanged. A watcher thread (inotify IN_MODIFY, which
// ftruncate raises) notices a shrink even when nothing touches the memory, so sleepers end too.
// Design: docs/design/shm.md ("Truncation").
#pragma once

#include <cstddef>
#include <cstdint>

namespace interproc::truncation {

// Mappings tracked at once; a mapping beyond that has no protection (a truncate kills, as before).
constexpr int kSlots = 4096;

// Registers [start, start + length), a mapping of fd at offset 0 (fd < 0: none to fstat). Installs the
// SIGBUS handler once per process; with `watch`, also adds an inotify watch (for objects whose size is
// not sealed). Returns the slot, or -1 when the table is full. Not for signal handlers.
int track(void* start, size_t length, int fd, bool watch);
// Forgets the slot; call before munmap. Waits for a handler or the watcher still using it.
void untrack(int slot);
// True once the slot's object was found smaller than its mapping (a fault, the watcher, or check()).
bool truncated(int slot);
// Compares the object's size (fstat) with the mapping now; when smaller, repairs and marks the slot.
// Returns truncated(slot).
bool check(int slot);
// The truncation word (0 intact, 1 truncated) of the tracked mapping holding addr, or nullptr. A sleeper
// adds it to its futex_waitv set (process-private, expected 0): marking the slot wakes every such sleep.
const uint32_t* wordFor(const void* addr);
// Where an address lies, for code that keeps pointers into mappings past the call that made them (the
// robust list's record of held words): the tracked mapping's slot and its epoch, which untrack() changes.
struct Place {
  int slot = -1;  // -1: in no tracked mapping (nothing can be said about it later)
  uint32_t epoch = 0;
};
Place placeOf(const void* addr);
// While a Pinned is alive and ok(), the mapping of its Place cannot be untracked (nor so unmapped by
// this library): untrack() waits for it. Not ok() once that mapping was untracked, even if another
// mapping now holds its slot or its addresses. A Place with slot -1 always pins ok.
class Pinned {
 public:
  explicit Pinned(Place p);
  ~Pinned();
  Pinned(const Pinned&) = delete;
  Pinned& operator=(const Pinned&) = delete;
  bool ok() const { return ok_; }
  // With ok(): the address lies in the part that a truncation mapped over with zeros (its memory is
  // no longer shared; what was there is gone).
  bool zeroed(const void* addr) const;

 private:
  int slot_;
  bool ok_;
};
// All kSlots truncation words, slot-indexed (the JS side reads them through one view, no call per check).
uint32_t* words();
// The SIGBUS disposition this library replaced (for tests): true once the handler is installed.
bool handlerInstalled();

}  // namespace interproc::truncation
