#include "core/shm/shared_memory.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <utility>

#include "core/internal/contract.hpp"
#include "core/internal/portable.hpp"
#include "core/shm/truncation_guard.hpp"

namespace interproc {

Segment::Segment(Segment&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      fd_(std::exchange(o.fd_, -1)),
      created_(o.created_),
      readonly_(o.readonly_),
      slot_(std::exchange(o.slot_, -1)) {}

Segment& Segment::operator=(Segment&& o) noexcept {
  if (this != &o) {
    close();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    fd_ = std::exchange(o.fd_, -1);
    created_ = o.created_;
    readonly_ = o.readonly_;
    slot_ = std::exchange(o.slot_, -1);
  }
  return *this;
}

Segment::~Segment() { close(); }

void Segment::close() {
  truncation::untrack(slot_);  // before munmap: the range may be reused at once
  slot_ = -1;
  if (data_ != nullptr) munmap(data_, size_);
  if (fd_ >= 0) ::close(fd_);
  data_ = nullptr;
  size_ = 0;
  fd_ = -1;
}

std::string Segment::validateName(const std::string& name) {
  if (name.size() < 2 || name[0] != '/') return "must be '/' followed by at least one character";
  if (name.find('/', 1) != std::string::npos) return "must not contain '/' after the leading one";
  if (name.find('\0') != std::string::npos) return "must not contain NUL bytes";
  if (name.size() - 1 > NAME_MAX) return "must be at most 255 bytes after the leading '/'";
  if (name == "/." || name == "/..") return "must not be '.' or '..'";
  return {};
}

Result<Segment> Segment::mapFd(int fd, bool readonly, bool created) {
  portable::FileStat st{};
  if (portable::fileStat(fd, st) != 0) {
    SysError e = SysError::fromErrno("fstat");
    ::close(fd);
    return e;
  }
  Segment seg;
  seg.fd_ = fd;
  seg.size_ = static_cast<size_t>(st.size);
  seg.created_ = created;
  seg.readonly_ = readonly;
  if (seg.size_ == 0) return seg;  // an empty object maps to an empty buffer, no mapping needed
  // A read-only object is mapped private and writable: a write from JS then only touches this
  // process's copy-on-write page instead of killing the process with SIGSEGV.
  int prot = PROT_READ | PROT_WRITE;
  int flags = readonly ? MAP_PRIVATE : MAP_SHARED;
  void* p = mmap(nullptr, seg.size_, prot, flags, fd, 0);
  if (p == MAP_FAILED) return SysError::fromErrno("mmap");  // seg's destructor closes fd
  seg.data_ = p;
  // Track it, so a truncate by another process becomes a mark instead of a SIGBUS; watch for a
  // shrink unless the size is sealed (a sealed memfd cannot shrink).
  int seals = fcntl(fd, F_GET_SEALS);
  bool sealed = seals >= 0 && (seals & F_SEAL_SHRINK) != 0;
  seg.slot_ = truncation::track(p, seg.size_, fd, !sealed);
  return seg;
}

bool Segment::truncated() const { return truncation::truncated(slot_); }

bool Segment::checkTruncated() {
  if (slot_ >= 0) return truncation::check(slot_);
  portable::FileStat st{};
  return fd_ >= 0 && size_ > 0 && portable::fileStat(fd_, st) == 0 && static_cast<size_t>(st.size) < size_;
}

namespace {

// Creates the object fully (mode, size) under a private temporary name in /dev/shm, where glibc's
// shm_open keeps objects. Returns the fd; the caller publishes or unlinks the temporary name.
Result<int> createUnder(const std::string& tmp, const SegmentOptions& opts) {
  int fd = portable::shmOpen(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL, opts.mode);
  if (fd < 0) return SysError::fromErrno("shm_open");
  const char* failed = nullptr;
  if (fchmod(fd, opts.mode) != 0) failed = "fchmod";
  else if (ftruncate(fd, static_cast<off_t>(opts.size)) != 0) failed = "ftruncate";
  if (failed != nullptr) {
    SysError e = SysError::fromErrno(failed);
    ::close(fd);
    portable::shmUnlink(tmp.c_str());
    return e;
  }
  return fd;
}

std::string temporaryName() {
  static std::atomic<uint32_t> counter{0};
  return contract::SHM_TEMP_PREFIX + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

// Creates the object under a temporary name and only then publishes it under `name`, so no other
// process can ever open it half-made (e.g. with size 0 before ftruncate). Returns the fd, or EEXIST.
Result<int> createPublished(const std::string& name, const SegmentOptions& opts) {
  std::string tmp = temporaryName();
  Result<int> fd = createUnder(tmp, opts);
  if (!fd) return fd;
  Status published = Segment::publish(tmp, name);
  if (!published) {
    ::close(fd.value());
    return published.error();
  }
  return fd;
}

}  // namespace

Result<Segment> Segment::createHidden(const SegmentOptions& opts, std::string* tmpName) {
  *tmpName = temporaryName();
  Result<int> fd = createUnder(*tmpName, opts);
  if (!fd) return fd.error();
  Result<Segment> r = mapFd(fd.value(), false, true);
  if (!r.ok()) portable::shmUnlink(tmpName->c_str());
  return r;
}

Status Segment::publish(const std::string& tmpName, const std::string& name) {
  int rc = link(("/dev/shm" + tmpName).c_str(), ("/dev/shm" + name).c_str());
  SysError e{errno, errno == EEXIST ? "shm_open" : "link"};
  portable::shmUnlink(tmpName.c_str());  // the published name (if any) keeps the object
  if (rc != 0) return e;
  return Ok{};
}

Result<Segment> Segment::open(const std::string& name, CreateMode how, const SegmentOptions& opts) {
  if (how == CreateMode::OpenOnly) {
    int fd = portable::shmOpen(name.c_str(), opts.readonly ? O_RDONLY : O_RDWR, 0);
    if (fd < 0) return SysError::fromErrno("shm_open");
    return mapFd(fd, opts.readonly, false);
  }
  Result<int> made = createPublished(name, opts);
  if (made) {
    Result<Segment> r = mapFd(made.value(), false, true);
    if (!r.ok()) portable::shmUnlink(name.c_str());  // do not leave an object nobody got
    return r;
  }
  if (how == CreateMode::Exclusive || made.error().code != EEXIST) return made.error();
  // OpenOrCreate and it exists: open it. (If it vanished in between, say so rather than loop.)
  int fd = portable::shmOpen(name.c_str(), O_RDWR, 0);
  if (fd < 0) return SysError::fromErrno("shm_open");
  return mapFd(fd, false, false);
}

Result<Segment> Segment::anonymous(size_t size) {
  int fd = memfd_create("interproc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return SysError::fromErrno("memfd_create");
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    SysError e = SysError::fromErrno("ftruncate");
    ::close(fd);
    return e;
  }
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    SysError e = SysError::fromErrno("fcntl");
    ::close(fd);
    return e;
  }
  return mapFd(fd, false, true);
}

Result<Segment> Segment::fromFd(int fd, bool readonly) {
  int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return SysError::fromErrno("fcntl");
  return mapFd(dup, readonly, false);
}

bool Segment::sizeSealed() const {
  int seals = fd_ >= 0 ? fcntl(fd_, F_GET_SEALS) : -1;  // EINVAL for files that cannot be sealed
  return seals >= 0 && (seals & F_SEAL_SHRINK) != 0;
}

Status Segment::unlink(const std::string& name) {
  if (portable::shmUnlink(name.c_str()) != 0) return SysError::fromErrno("shm_unlink");
  return Ok{};
}

}  // namespace interproc
