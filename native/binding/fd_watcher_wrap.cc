// FdWatcher: readiness of a file descriptor (socket, eventfd, pipe) on the event loop of the calling
// thread, through a libuv poll handle (epoll). No thread per fd and no busy polling: the basis of the
// socket channels and of the mailbox doorbells.
//
//   const w = new native.FdWatcher(fd, (status, events) => {...});  // status < 0: -errno
//   w.start(events /* 1 readable | 2 writable | 4 disconnect */); w.stop(); w.ref(); w.unref(); w.close();
//
// The watcher does not own the fd: close the watcher first, then the fd.
#include <napi.h>
#include <uv.h>

#include "errors.hpp"
#include "registry.hpp"

namespace interproc::binding {
namespace {

class FdWatcher : public Napi::ObjectWrap<FdWatcher> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "FdWatcher",
                       {InstanceMethod<&FdWatcher::start>("start"), InstanceMethod<&FdWatcher::stop>("stop"),
                        InstanceMethod<&FdWatcher::close>("close"), InstanceMethod<&FdWatcher::ref>("ref"),
                        InstanceMethod<&FdWatcher::unref>("unref")});
  }

  FdWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FdWatcher>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) throw typeError(env, "fd must be a number");
    if (!info[1].IsFunction()) throw typeError(env, "callback must be a function");
    int fd = info[0].As<Napi::Number>().Int32Value();
    if (fd < 0) throw rangeError(env, "fd must be non-negative");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
    // Everything that can throw comes before the uv handle exists, so a throw never leaks it.
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "interproc.FdWatcher");
    poll_ = new uv_poll_t;
    int rc = uv_poll_init(loop, poll_, fd);
    if (rc != 0) {
      delete poll_;
      poll_ = nullptr;
      SysError e{-rc, "uv_poll_init"};
      throw systemError(env, e);
    }
    poll_->data = this;
    env_ = env;
    napi_add_env_cleanup_hook(env, &FdWatcher::onTeardown, this);
  }

  ~FdWatcher() override { closeHandle(); }

 private:
  // The uv handle outlives this object if needed: it is freed in its own close callback.
  void closeHandle() {
    if (poll_ == nullptr) return;
    napi_remove_env_cleanup_hook(env_, &FdWatcher::onTeardown, this);
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
    if (active_) {
      active_ = false;
      Unref();  // the JS object may now be collected
    }
  }

  static void onTeardown(void* arg) {
    auto* self = static_cast<FdWatcher*>(arg);
    if (self->poll_ == nullptr) return;
    self->poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(self->poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    self->poll_ = nullptr;
  }

  static void onPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<FdWatcher*>(handle->data);
    if (self == nullptr) return;
    Napi::Env env = self->env_;
    Napi::HandleScope scope(env);
    try {
      self->callback_.MakeCallback(self->Value(),
                                   {Napi::Number::New(env, status), Napi::Number::New(env, events)},
                                   *self->context_);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());  // surfaces as 'uncaughtException', like any callback
    }
  }

  Napi::Value start(const Napi::CallbackInfo& info) {
    if (!info[0].IsNumber()) throw typeError(info.Env(), "events must be a number");
    int events = info[0].As<Napi::Number>().Int32Value() & (UV_READABLE | UV_WRITABLE | UV_DISCONNECT);
    if (poll_ == nullptr) throw codedError(info.Env(), "ERR_INVALID_STATE", "FdWatcher is closed");
    int rc = uv_poll_start(poll_, events, &FdWatcher::onPoll);
    if (rc != 0) throw systemError(info.Env(), SysError{-rc, "uv_poll_start"});
    if (!active_) {
      active_ = true;
      Ref();  // keep the JS object (and its callback) alive while watching
    }
    return info.Env().Undefined();
  }

  Napi::Value stop(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_poll_stop(poll_);
    if (active_) {
      active_ = false;
      Unref();
    }
    return info.Env().Undefined();
  }

  Napi::Value close(const Napi::CallbackInfo& info) {
    closeHandle();
    return info.Env().Undefined();
  }

  Napi::Value ref(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value unref(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  uv_poll_t* poll_ = nullptr;
  bool active_ = false;
  napi_env env_ = nullptr;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

void init(Napi::Env env, Napi::Object exports) { exports.Set("FdWatcher", FdWatcher::define(env)); }

Registrar registrar(init);

}  // namespace
}  // namespace interproc::binding
