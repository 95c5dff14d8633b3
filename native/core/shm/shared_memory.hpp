// A POSIX shared-memory segment (shm_open) or an anonymous one (memfd_create), mapped MAP_SHARED.
// The mapping has no hidden header: its bytes are exactly what C or Python see in the same object.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "core/internal/result.hpp"

namespace interproc {

enum class CreateMode { Exclusive, OpenOnly, OpenOrCreate };

struct SegmentOptions {
  size_t size = 0;        // bytes; for OpenOnly ignored (taken from the object)
  mode_t mode = 0600;     // permissions of a newly created object (applied with fchmod, so umask does not narrow it)
  bool readonly = false;  // open O_RDONLY; mapped private copy-on-write so a stray JS write cannot fault
};

// A live mapping. Move-only; the destructor unmaps and closes the fd.
class Segment {
 public:
  Segment() = default;
  Segment(Segment&& other) noexcept;
  Segment& operator=(Segment&& other) noexcept;
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment();

  // Named POSIX segment. `name` must already be valid (see validateName).
  static Result<Segment> open(const std::string& name, CreateMode how, const SegmentOptions& opts);
  // Anonymous segment (memfd): nothing appears in /dev/shm; share it by passing fd().
  // Its size is sealed (no grow or shrink), so a receiver can never be made to fault by a truncate.
  static Result<Segment> anonymous(size_t size);
  // Maps an existing fd (for example one received from another process). The fd is duplicated
  // (close-on-exec); the caller keeps its own.
  static Result<Segment> fromFd(int fd, bool readonly);
  // Creates and maps a new object under a private temporary name (returned in *tmpName), not yet
  // visible under any name a user would open. Initialise it, then publish() it: so nobody can ever
  // open a named object before its creator has set it up (a lock's header, a mailbox's slots).
  static Result<Segment> createHidden(const SegmentOptions& opts, std::string* tmpName);
  // Gives the hidden object its real name (link(2) in /dev/shm: EEXIST if the name exists) and
  // removes the temporary name, whatever the outcome.
  static Status publish(const std::string& tmpName, const std::string& name);
  // Removes a name from the system; mappings stay valid until closed.
  static Status unlink(const std::string& name);

  // Returns an empty string when the name is a valid POSIX shm name ("/x", one slash, <= 255 bytes),
  // otherwise why it is not.
  static std::string validateName(const std::string& name);

  void* data() const { return data_; }
  size_t size() const { return size_; }
  int fd() const { return fd_; }
  bool created() const { return created_; }
  bool readonly() const { return readonly_; }
  // True when the object's size can no longer shrink (memfd with F_SEAL_SHRINK): then no other
  // process can truncate it under this mapping (which the truncation guard survives, but the bytes
  // are lost). Named POSIX segments cannot be sealed.
  bool sizeSealed() const;
  bool valid() const { return fd_ >= 0; }
  // True once the object was found smaller than this mapping (another process truncated it): the
  // lost pages now read zeros, privately (core/shm/truncation_guard.hpp). Cheap: one atomic load.
  bool truncated() const;
  // Compares the object's size with the mapping now (fstat) and, when it shrank, marks and repairs
  // the mapping before anything faults. Returns truncated().
  bool checkTruncated();
  // The mapping's slot in the truncation guard's table, -1 when untracked (empty or table full).
  int guardSlot() const { return slot_; }
  // Unmaps and closes now. Idempotent.
  void close();

 private:
  static Result<Segment> mapFd(int fd, bool readonly, bool created);
  void* data_ = nullptr;
  size_t size_ = 0;
  int fd_ = -1;
  bool created_ = false;
  bool readonly_ = false;
  int slot_ = -1;
};

}  // namespace interproc
