// PidWatcher: word from the kernel, on this thread's event loop, that one process ended. A pidfd
// (pidfd_open) watched by a libuv poll handle: no thread and no polling interval; the fd becomes
// readable when the process exits or is killed. The basis of monitors (lib/monitor) and of mailbox
// death detection (lib/internal/process-watch.ts).
//
//   const w = new native.PidWatcher(pid, (code, signal, known) => {...});  // once, then closed
//   w.ref(); w.unref(); w.close();
//   w.fd();  // the pidfd, -1 once the callback ran or after close(): a sync wait sleeps on it too
//
// The callback runs once: `known` is true when waitid(P_PIDFD, WNOWAIT) gave the status (a child of
// this process), with `code` (-1 if it was killed) and `signal` (0 if it exited); for any other
// process only the end itself is known. The status is read without reaping, so Node's own
// child_process 'exit' still fires. The constructor throws ESRCH when there is no such process and
// ENOSYS/EPERM where pidfds are not permitted (the caller falls back to liveness checks). After the
// callback, close(), or the environment's teardown, the handle, the fd and the reference to the
// callback are all released.
#include <napi.h>
#include <unistd.h>
#include <uv.h>

#include "binding/internal/args.hpp"
#include "binding/internal/errors.hpp"
#include "binding/internal/registry.hpp"
#include "core/internal/pidfd.hpp"

namespace interproc::binding {
namespace {

class PidWatcher : public Napi::ObjectWrap<PidWatcher> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "PidWatcher",
                       {InstanceMethod<&PidWatcher::close>("close"), InstanceMethod<&PidWatcher::ref>("ref"),
                        InstanceMethod<&PidWatcher::unref>("unref"), InstanceMethod<&PidWatcher::fd>("fd")});
  }

  PidWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PidWatcher>(info) {
    Napi::Env env = info.Env();
    auto pid = static_cast<pid_t>(args::integer(env, info[0], "pid", 1, 0x7fffffff));
    Napi::Function callback = args::function(env, info[1], "callback");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
    auto fd = pidfd::open(pid);
    if (!fd) throw systemError(env, fd.error());
    poll_ = new uv_poll_t;
    int rc = uv_poll_init(loop, poll_, fd.value());
    if (rc == 0) rc = uv_poll_start(poll_, UV_READABLE, &PidWatcher::onPoll);
    if (rc != 0) {
      // A poll handle that was initialised must be closed through the loop; one that failed to init is ours.
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
      ::close(fd.value());
      throw systemError(env, SysError{-rc, "uv_poll_start"});
    }
    poll_->data = this;
    fd_ = fd.value();
    env_ = env;
    callback_ = Napi::Persistent(callback);
    context_ = std::make_unique<Napi::AsyncContext>(env, "interproc.PidWatcher");
    napi_add_env_cleanup_hook(env, &PidWatcher::onTeardown, this);
    Ref();  // the JS object (and its callback) stay alive until the process ends or close()
  }

  ~PidWatcher() override { release(); }

 private:
  // Closes the handle and the fd and lets go of the callback; idempotent.
  void release() {
    if (poll_ == nullptr) return;
    napi_remove_env_cleanup_hook(env_, &PidWatcher::onTeardown, this);
    closeHandle();
    callback_.Reset();
    context_.reset();
    Unref();
  }

  // uv_close stops polling at once, so the fd may be closed right after; the handle is freed later.
  void closeHandle() {
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
    ::close(fd_);
    fd_ = -1;
  }

  // The environment is going away (process exit, worker.terminate()): no JS may run; free the handle.
  static void onTeardown(void* arg) {
    auto* self = static_cast<PidWatcher*>(arg);
    if (self->poll_ != nullptr) self->closeHandle();
  }

  static void onPoll(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<PidWatcher*>(handle->data);
    if (self == nullptr) return;
    pidfd::ExitStatus s;
    if (status == 0) {
      auto r = pidfd::exitStatus(self->fd_);
      if (r) s = r.value();
    }
    // A poll error on a pidfd cannot mean the process lives on: report the end with what is known.
    Napi::Env env = self->env_;
    Napi::HandleScope scope(env);
    Napi::Function fn = self->callback_.Value();
    auto context = std::move(self->context_);
    Napi::Object recv = self->Value();
    self->release();  // before JS runs: the callback may drop the last reference to this object
    try {
      fn.MakeCallback(
          recv, {Napi::Number::New(env, s.code), Napi::Number::New(env, s.signal), Napi::Boolean::New(env, s.known)},
          *context);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());  // surfaces as 'uncaughtException', like any callback
    }
  }

  Napi::Value close(const Napi::CallbackInfo& info) {
    release();
    return info.Env().Undefined();
  }

  Napi::Value fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }

  Napi::Value ref(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value unref(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  uv_poll_t* poll_ = nullptr;
  int fd_ = -1;
  napi_env env_ = nullptr;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

void init(Napi::Env env, Napi::Object exports) { exports.Set("PidWatcher", PidWatcher::define(env)); }

Registrar registrar(init);

}  // namespace
}  // namespace interproc::binding
