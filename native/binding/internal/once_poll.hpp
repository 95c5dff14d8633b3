// OncePoll: what PidWatcher and DeathWatcher share. A libuv poll handle on this thread's loop waits
// for one fd to become readable; then the JS callback runs once, with the arguments the derived class
// gives (Derived::arguments), and everything is let go: the handle, the derived class's own resources
// (Derived::letGo: its fd, its thread), the callback and the object's self-reference. close(), the
// environment's teardown and the object's destruction end a watch the same way. JS methods: close(),
// ref(), unref(), fd() (the polled fd, -1 once the watch ended).
#pragma once

#include <napi.h>
#include <uv.h>

#include <memory>
#include <vector>

#include "binding/internal/errors.hpp"

namespace interproc::binding {

template <typename Derived>
class OncePoll : public Napi::ObjectWrap<Derived> {
 public:
  static Napi::Function define(Napi::Env env, const char* name) {
    using Wrap = Napi::ObjectWrap<Derived>;
    return Wrap::DefineClass(
        env, name,
        {Wrap::InstanceMethod("close", &OncePoll::jsClose), Wrap::InstanceMethod("ref", &OncePoll::jsRef),
         Wrap::InstanceMethod("unref", &OncePoll::jsUnref), Wrap::InstanceMethod("fd", &OncePoll::jsFd)});
  }

 protected:
  explicit OncePoll(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {}

  // Starts the watch of `fd` (last in the derived constructor: on a throw, the derived class frees
  // what it made). The handle starts ref'd, as a ChildProcess keeps its loop alive.
  void watch(Napi::Env env, int fd, Napi::Function callback, const char* resource) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
    auto* poll = new uv_poll_t;
    int rc = uv_poll_init(loop, poll, fd);
    if (rc != 0) {
      delete poll;  // never initialised: not the loop's to close
      throw systemError(env, SysError{-rc, "uv_poll_init"});
    }
    rc = uv_poll_start(poll, UV_READABLE, &OncePoll::onPoll);
    if (rc != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(poll), freeHandle);
      throw systemError(env, SysError{-rc, "uv_poll_start"});
    }
    poll_ = poll;
    poll_->data = this;
    fd_ = fd;
    env_ = env;
    callback_ = Napi::Persistent(callback);
    context_ = std::make_unique<Napi::AsyncContext>(env, resource);
    napi_add_env_cleanup_hook(env, &OncePoll::onTeardown, this);
    this->Ref();  // the JS object (and its callback) stay alive until the fd fires or close()
  }

  bool watching() const { return poll_ != nullptr; }

  // Ends the watch, if it is on; idempotent. Each derived destructor calls it (the base's would run
  // after the derived part, and its resources, are gone).
  void release() {
    if (poll_ == nullptr) return;
    napi_remove_env_cleanup_hook(env_, &OncePoll::onTeardown, this);
    closeHandle();
    callback_.Reset();
    context_.reset();
    this->Unref();
  }

 private:
  static void freeHandle(uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); }

  // uv_close stops polling at once, so the derived class may close the fd right after.
  void closeHandle() {
    if (poll_ == nullptr) return;
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), freeHandle);
    poll_ = nullptr;
    fd_ = -1;
    static_cast<Derived*>(this)->letGo();
  }

  // The environment is going away (process exit, worker.terminate()): no JS may run.
  static void onTeardown(void* arg) { static_cast<OncePoll*>(arg)->closeHandle(); }

  static void onPoll(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<OncePoll*>(handle->data);
    if (self == nullptr) return;
    Napi::Env env = self->env_;
    Napi::HandleScope scope(env);
    std::vector<napi_value> argv = static_cast<Derived*>(self)->arguments(env, status);
    Napi::Function fn = self->callback_.Value();
    auto context = std::move(self->context_);
    Napi::Object recv = self->Value();
    self->release();  // before JS runs: the callback may drop the last reference to this object
    try {
      fn.MakeCallback(recv, argv, *context);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());  // surfaces as 'uncaughtException', like any callback
    }
  }

  Napi::Value jsClose(const Napi::CallbackInfo& info) {
    release();
    return info.Env().Undefined();
  }
  Napi::Value jsFd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }
  Napi::Value jsRef(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }
  Napi::Value jsUnref(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  uv_poll_t* poll_ = nullptr;
  int fd_ = -1;
  napi_env env_ = nullptr;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

}  // namespace interproc::binding
