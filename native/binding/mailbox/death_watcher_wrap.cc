// DeathWatcher: word, on this thread's event loop, that another member's death word stopped naming
// its holder (core/mailbox/death_word.hpp): the kernel marked it owner-dead as that thread exited, or
// it was released or overwritten (the caller reads the slot to tell which). One native thread per
// watch sleeps on the word and writes an eventfd, which a libuv poll handle watches; a sync wait may
// sleep on that eventfd too (fd()). The watch maps the segment's first pages itself (like a held
// slot), so it never touches memory the group's own mapping may have given back.
//
//   const w = new native.DeathWatcher(handle, member, tid, () => {...});  // once, then closed
//   w.ref(); w.unref(); w.close(); w.fd();
#include <fcntl.h>
#include <napi.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <uv.h>

#include <system_error>
#include <thread>
#include <vector>

#include "binding/internal/args.hpp"
#include "binding/internal/errors.hpp"
#include "binding/internal/mapping.hpp"
#include "binding/internal/once_poll.hpp"
#include "binding/internal/registry.hpp"
#include "core/mailbox/death_word.hpp"
#include "core/mailbox/ring.hpp"
#include "core/shm/futex.hpp"
#include "core/shm/truncation_guard.hpp"

namespace interproc::binding {
namespace {

using ring::MemberSlot;

class DeathWatcher : public OncePoll<DeathWatcher> {
 public:
  DeathWatcher(const Napi::CallbackInfo& info) : OncePoll(info) {
    Napi::Env env = info.Env();
    const auto& m = unwrapOpenMapping(env, info[0]);
    uint32_t member = args::u32(env, info[1], "member");
    uint32_t tid = args::u32(env, info[2], "tid");
    Napi::Function callback = args::function(env, info[3], "callback");
    if (member >= ring::kMaxMembers) throw rangeError(env, "no such member slot");
    if (tid == 0 || death_word::holder(tid) != tid) throw rangeError(env, "tid is not a holder's");
    uint64_t offset = sizeof(ring::GroupHeader) + uint64_t(member) * sizeof(MemberSlot);
    if (m->at(offset, sizeof(MemberSlot)) == nullptr) throw rangeError(env, "no such member slot");
    length_ = offset + sizeof(MemberSlot);
    segFd_ = fcntl(m->segment().fd(), F_DUPFD_CLOEXEC, 0);
    if (segFd_ < 0) throw systemError(env, SysError::fromErrno("fcntl"));
    base_ = mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_SHARED, segFd_, 0);
    if (base_ == MAP_FAILED) {
      SysError err = SysError::fromErrno("mmap");
      base_ = nullptr;
      letGo();
      throw systemError(env, err);
    }
    guard_ = truncation::track(base_, length_, segFd_, false);
    efd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd_ < 0) {
      SysError err = SysError::fromErrno("eventfd");
      letGo();
      throw systemError(env, err);
    }
    auto* word = &reinterpret_cast<MemberSlot*>(static_cast<uint8_t*>(base_) + offset)->death;
    int efd = efd_;
    try {
      thread_ = std::thread([word, tid, efd, stop = &stop_] {
        if (death_word::sleepWhileHeld(word, tid, stop) == death_word::WatchEnd::Changed) {
          uint64_t one = 1;
          (void)!write(efd, &one, sizeof one);
        }
      });
    } catch (const std::system_error& e) {
      letGo();
      throw systemError(env, SysError{e.code().value(), "pthread_create"});
    }
    try {
      watch(env, efd_, callback, "interproc.DeathWatcher");
    } catch (...) {
      letGo();
      throw;
    }
  }

  ~DeathWatcher() override { release(); }

 private:
  friend class OncePoll<DeathWatcher>;

  std::vector<napi_value> arguments(Napi::Env, int) { return {}; }

  // Stops the thread (it wakes at once: its futex_waitv includes stop_), then frees the rest.
  void letGo() {
    if (thread_.joinable()) {
      futex::cancelWait(&stop_);
      thread_.join();
    }
    if (guard_ >= 0) truncation::untrack(guard_);
    guard_ = -1;
    if (base_ != nullptr) munmap(base_, length_);
    base_ = nullptr;
    if (segFd_ >= 0) ::close(segFd_);
    segFd_ = -1;
    if (efd_ >= 0) ::close(efd_);
    efd_ = -1;
  }

  void* base_ = nullptr;
  size_t length_ = 0;
  int segFd_ = -1;
  int efd_ = -1;
  int guard_ = -1;
  uint32_t stop_ = 0;
  std::thread thread_;
};

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("DeathWatcher", DeathWatcher::define(env, "DeathWatcher"));
}

Registrar registrar(init);

}  // namespace
}  // namespace interproc::binding
