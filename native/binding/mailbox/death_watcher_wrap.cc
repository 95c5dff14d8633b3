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

#include "binding/internal/args.hpp"
#include "binding/internal/errors.hpp"
#include "binding/internal/mapping.hpp"
#include "binding/internal/registry.hpp"
#include "core/mailbox/death_word.hpp"
#include "core/mailbox/ring.hpp"
#include "core/shm/futex.hpp"
#include "core/shm/truncation_guard.hpp"

namespace interproc::binding {
namespace {

using ring::MemberSlot;

class DeathWatcher : public Napi::ObjectWrap<DeathWatcher> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "DeathWatcher",
                       {InstanceMethod<&DeathWatcher::close>("close"), InstanceMethod<&DeathWatcher::ref>("ref"),
                        InstanceMethod<&DeathWatcher::unref>("unref"), InstanceMethod<&DeathWatcher::fd>("fd")});
  }

  DeathWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeathWatcher>(info) {
    Napi::Env env = info.Env();
    const auto& m = unwrapOpenMapping(env, info[0]);
    uint32_t member = args::u32(env, info[1], "member");
    uint32_t tid = args::u32(env, info[2], "tid");
    Napi::Function callback = args::function(env, info[3], "callback");
    if (member >= ring::kMaxMembers) throw rangeError(env, "no such member slot");
    if (tid == 0 || death_word::holder(tid) != tid) throw rangeError(env, "tid is not a holder's");
    uint64_t offset = sizeof(ring::GroupHeader) + uint64_t(member) * sizeof(MemberSlot);
    if (m->at(offset, sizeof(MemberSlot)) == nullptr) throw rangeError(env, "no such member slot");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");

    length_ = offset + sizeof(MemberSlot);
    segFd_ = fcntl(m->segment().fd(), F_DUPFD_CLOEXEC, 0);
    if (segFd_ < 0) throw systemError(env, SysError::fromErrno("fcntl"));
    base_ = mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_SHARED, segFd_, 0);
    if (base_ == MAP_FAILED) {
      SysError err = SysError::fromErrno("mmap");
      base_ = nullptr;
      freeMemory();
      throw systemError(env, err);
    }
    guard_ = truncation::track(base_, length_, segFd_, false);
    efd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd_ < 0) {
      SysError err = SysError::fromErrno("eventfd");
      freeMemory();
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
      freeMemory();
      throw systemError(env, SysError{e.code().value(), "pthread_create"});
    }
    auto* poll = new uv_poll_t;
    int rc = uv_poll_init(loop, poll, efd_);
    if (rc != 0) {
      delete poll;  // never initialised: not the loop's to close
      stopThread();
      freeMemory();
      throw systemError(env, SysError{-rc, "uv_poll_init"});
    }
    rc = uv_poll_start(poll, UV_READABLE, &DeathWatcher::onPoll);
    if (rc != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(poll), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      stopThread();
      freeMemory();
      throw systemError(env, SysError{-rc, "uv_poll_start"});
    }
    poll_ = poll;
    poll_->data = this;
    env_ = env;
    callback_ = Napi::Persistent(callback);
    context_ = std::make_unique<Napi::AsyncContext>(env, "interproc.DeathWatcher");
    napi_add_env_cleanup_hook(env, &DeathWatcher::onTeardown, this);
    Ref();  // alive until the word changes or close()
  }

  ~DeathWatcher() override { release(); }

 private:
  // Stops the thread (it wakes at once: its futex_waitv includes stop_), then frees everything.
  void stopThread() {
    if (!thread_.joinable()) return;
    futex::cancelWait(&stop_);
    thread_.join();
  }

  void freeMemory() {
    if (guard_ >= 0) truncation::untrack(guard_);
    guard_ = -1;
    if (base_ != nullptr) munmap(base_, length_);
    base_ = nullptr;
    if (segFd_ >= 0) ::close(segFd_);
    segFd_ = -1;
    if (efd_ >= 0) ::close(efd_);
    efd_ = -1;
  }

  void closeHandle() {
    if (poll_ == nullptr) return;
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
    stopThread();
    freeMemory();
  }

  void release() {
    if (poll_ == nullptr) return;
    napi_remove_env_cleanup_hook(env_, &DeathWatcher::onTeardown, this);
    closeHandle();
    callback_.Reset();
    context_.reset();
    Unref();
  }

  static void onTeardown(void* arg) { static_cast<DeathWatcher*>(arg)->closeHandle(); }

  static void onPoll(uv_poll_t* handle, int /*status*/, int /*events*/) {
    auto* self = static_cast<DeathWatcher*>(handle->data);
    if (self == nullptr) return;
    Napi::Env env = self->env_;
    Napi::HandleScope scope(env);
    Napi::Function fn = self->callback_.Value();
    auto context = std::move(self->context_);
    Napi::Object recv = self->Value();
    self->release();  // before JS runs: the callback may drop the last reference to this object
    try {
      fn.MakeCallback(recv, {}, *context);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());
    }
  }

  Napi::Value close(const Napi::CallbackInfo& info) {
    release();
    return info.Env().Undefined();
  }
  Napi::Value fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), poll_ ? efd_ : -1); }
  Napi::Value ref(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }
  Napi::Value unref(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  uv_poll_t* poll_ = nullptr;
  void* base_ = nullptr;
  size_t length_ = 0;
  int segFd_ = -1;
  int efd_ = -1;
  int guard_ = -1;
  uint32_t stop_ = 0;
  std::thread thread_;
  napi_env env_ = nullptr;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

void init(Napi::Env env, Napi::Object exports) { exports.Set("DeathWatcher", DeathWatcher::define(env)); }

Registrar registrar(init);

}  // namespace
}  // namespace interproc::binding
