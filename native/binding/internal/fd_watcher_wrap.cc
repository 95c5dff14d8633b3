// FdWatcher: readiness of a file descriptor (socket, eventfd, pipe) on the event loop of the calling
// thread, through a libuv poll handle (epoll). No thread per fd and no busy polling: the basis of the
// socket channels and of the mailbox doorbells.
//
//   const w = new native.FdWatcher(fd, (status, events) => {...});  // status < 0: -errno
//   w.start(events /* 1 readable | 2 writable | 4 disconnect */); w.stop(); w.ref(); w.unref(); w.close();
//
// The watcher does not own the fd: close the watcher first, then the fd.
//
// The callback is held weakly natively and strongly by the JS object (a hidden property), and the
// JS object is held strongly (Ref) only while started: a closed or stopped watcher that nobody
// references is collected with its callback and whatever that closes over (a Server, a Channel),
// instead of being kept alive by a persistent root for ever. close() drops the callback at once.
//
// Doorbell mode, new native.FdWatcher(efd, () => {...}, { eventfd: true, edgeTriggered: true }): the fd
// is an eventfd that peers write to wake us. The callback gets no arguments (unless status < 0) and
// never has to read the eventfd: in level-triggered mode the native callback resets the counter
// before calling JS; with edgeTriggered the watcher re-registers the fd with EPOLLET on its first
// wake (libuv has surely put it in its epoll set by then), after which every write is one wake-up
// and nobody reads at all: one system call less per wake-up. Why this is safe: docs/design.md,
// "Mailboxes", wake-up protocol. w.edgeTriggered() says whether the switch took.
#include <napi.h>
#include <sys/epoll.h>
#include <uv.h>

#include "binding/internal/args.hpp"
#include "binding/internal/errors.hpp"
#include "binding/internal/registry.hpp"
#include "core/internal/contract.hpp"
#include "core/mailbox/doorbell.hpp"

// The event bits JS passes to start() and gets in the callback are libuv's (native/contract/contract.json).
static_assert(UV_READABLE == interproc::contract::POLL_READABLE && UV_WRITABLE == interproc::contract::POLL_WRITABLE &&
              UV_DISCONNECT == interproc::contract::POLL_DISCONNECT);

namespace interproc::binding {
namespace {

class FdWatcher : public Napi::ObjectWrap<FdWatcher> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(
        env, "FdWatcher",
        {InstanceMethod<&FdWatcher::start>("start"), InstanceMethod<&FdWatcher::stop>("stop"),
         InstanceMethod<&FdWatcher::close>("close"), InstanceMethod<&FdWatcher::ref>("ref"),
         InstanceMethod<&FdWatcher::unref>("unref"), InstanceMethod<&FdWatcher::edgeTriggered>("edgeTriggered")});
  }

  FdWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FdWatcher>(info) {
    Napi::Env env = info.Env();
    int fd = args::fd(env, info[0]);
    Napi::Function callback = args::function(env, info[1], "callback");
    if (!info[2].IsUndefined()) {
      auto options = args::object(env, info[2], "options");
      eventfd_ = args::optional(env, options.Get("eventfd"), "options.eventfd", false, args::boolean);
      wantEdge_ = args::optional(env, options.Get("edgeTriggered"), "options.edgeTriggered", false, args::boolean);
      // Only an eventfd is reset by a read and reports every write under EPOLLET; anything else
      // would make the drain a no-op and the loop spin.
      if (eventfd_ && !doorbell::isEventfd(fd)) throw typeError(env, "options.eventfd: fd is not an eventfd");
      if (wantEdge_ && !eventfd_) throw typeError(env, "options.edgeTriggered needs options.eventfd");
    }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
    // Everything that can throw comes before the uv handle exists, so a throw never leaks it.
    // The JS object owns the callback; our reference is weak (no GC root through a closure).
    info.This().As<Napi::Object>().DefineProperty(
        Napi::PropertyDescriptor::Value(callbackKey(env), callback, napi_default));
    callback_ = Napi::Weak(callback);
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
    loop_ = loop;
    fd_ = fd;
    env_ = env;
    napi_add_env_cleanup_hook(env, &FdWatcher::onTeardown, this);
  }

  ~FdWatcher() override { closeHandle(); }

 private:
  // The hidden property that holds the callback: a symbol made once per environment.
  static Napi::Symbol callbackKey(Napi::Env env) { return Napi::Symbol::For(env, "interproc.FdWatcher.callback"); }

  // The uv handle outlives this object if needed: it is freed in its own close callback.
  void closeHandle() {
    if (poll_ == nullptr) return;
    napi_remove_env_cleanup_hook(env_, &FdWatcher::onTeardown, this);
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
    edge_ = false;
    callback_.Reset();  // a closed watcher calls nothing: nothing of its owner stays reachable from here
    if (active_) {
      active_ = false;
      Unref();  // the JS object may now be collected
    }
  }

  static void onTeardown(void* arg) {
    auto* self = static_cast<FdWatcher*>(arg);
    if (self->poll_ == nullptr) return;
    self->poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(self->poll_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    self->poll_ = nullptr;
  }

  static void onPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<FdWatcher*>(handle->data);
    if (self == nullptr) return;
    if (self->eventfd_ && status == 0) self->doorbellWake();
    Napi::Env env = self->env_;
    Napi::HandleScope scope(env);
    // Started means Ref'd, so the JS object and the callback it holds are alive here.
    if (self->callback_.IsEmpty() || self->callback_.Value().IsEmpty()) return;
    try {
      Napi::Function callback = self->callback_.Value();
      if (self->eventfd_ && status == 0) {
        callback.MakeCallback(self->Value(), {}, *self->context_);
      } else {
        callback.MakeCallback(self->Value(), {Napi::Number::New(env, status), Napi::Number::New(env, events)},
                              *self->context_);
      }
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());  // surfaces as 'uncaughtException', like any callback
    }
  }

  // Doorbell mode, before JS runs: reset the counter (level-triggered), then (once per start) try
  // to switch to edge-triggered. Draining first means a ring that lands between the read and the
  // MOD is still reported: EPOLL_CTL_MOD re-checks readiness. We get here only from an epoll event
  // for this fd, so libuv's ADD has reached the kernel, even when it batches epoll_ctl through
  // io_uring (flushed before every epoll_pwait).
  void doorbellWake() {
    if (edge_) return;           // nothing to read: every ring is a new edge
    (void)doorbell::drain(fd_);  // EAGAIN (spurious wake) and errors: the callback re-checks anyway
    if (!wantEdge_ || triedEdge_) return;
    triedEdge_ = true;
    epoll_event e{};
    e.events = epollEvents_ | EPOLLET;
    e.data.fd = fd_;  // libuv finds its watcher by data.fd
    edge_ = epoll_ctl(uv_backend_fd(loop_), EPOLL_CTL_MOD, fd_, &e) == 0;
  }

  Napi::Value edgeTriggered(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), edge_); }

  Napi::Value start(const Napi::CallbackInfo& info) {
    // UV_READABLE 1 | UV_WRITABLE 2 | UV_DISCONNECT 4
    auto events =
        static_cast<int>(args::integer(info.Env(), info[0], "events", 0, UV_READABLE | UV_WRITABLE | UV_DISCONNECT));
    if (poll_ == nullptr) throw codedError(info.Env(), contract::errors::ERR_INVALID_STATE, "FdWatcher is closed");
    // uv_poll_start removes the fd from the epoll set and adds it back, level-triggered, on the
    // next loop iteration: edge-triggered mode has to be re-established on the next wake-up.
    edge_ = false;
    triedEdge_ = false;
    int rc = uv_poll_start(poll_, events, &FdWatcher::onPoll);
    if (rc != 0) throw systemError(info.Env(), SysError{-rc, "uv_poll_start"});
    epollEvents_ = ((events & UV_READABLE) ? uint32_t{EPOLLIN} : 0u) |
                   ((events & UV_WRITABLE) ? uint32_t{EPOLLOUT} : 0u) |
                   ((events & UV_DISCONNECT) ? uint32_t{EPOLLRDHUP} : 0u);
    if (!active_) {
      active_ = true;
      Ref();  // keep the JS object (and its callback) alive while watching
    }
    return info.Env().Undefined();
  }

  Napi::Value stop(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_poll_stop(poll_);
    edge_ = false;
    triedEdge_ = false;
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
  uv_loop_t* loop_ = nullptr;
  int fd_ = -1;
  bool active_ = false;
  bool eventfd_ = false;      // doorbell mode: an eventfd, reset natively unless edge-triggered
  bool wantEdge_ = false;     // doorbell mode: switch to EPOLLET on the first wake-up
  bool triedEdge_ = false;    // the switch was attempted since the last start()/stop()
  bool edge_ = false;         // the fd is registered with EPOLLET (no read needed per wake-up)
  uint32_t epollEvents_ = 0;  // what libuv registered (its POLL* bits equal the EPOLL* ones)
  napi_env env_ = nullptr;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

void init(Napi::Env env, Napi::Object exports) { exports.Set("FdWatcher", FdWatcher::define(env)); }

Registrar registrar(init);

}  // namespace
}  // namespace interproc::binding
