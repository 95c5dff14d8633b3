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

#include <vector>

#include "binding/internal/args.hpp"
#include "binding/internal/errors.hpp"
#include "binding/internal/once_poll.hpp"
#include "binding/internal/registry.hpp"
#include "core/internal/pidfd.hpp"

namespace interproc::binding {
namespace {

class PidWatcher : public OncePoll<PidWatcher> {
 public:
  PidWatcher(const Napi::CallbackInfo& info) : OncePoll(info) {
    Napi::Env env = info.Env();
    auto pid = static_cast<pid_t>(args::integer(env, info[0], "pid", 1, 0x7fffffff));
    Napi::Function callback = args::function(env, info[1], "callback");
    auto fd = pidfd::open(pid);
    if (!fd) throw systemError(env, fd.error());
    pidfd_ = fd.value();
    try {
      watch(env, pidfd_, callback, "interproc.PidWatcher");
    } catch (...) {
      letGo();
      throw;
    }
  }

  ~PidWatcher() override { release(); }

 private:
  friend class OncePoll<PidWatcher>;

  void letGo() {
    if (pidfd_ >= 0) ::close(pidfd_);
    pidfd_ = -1;
  }

  // A poll error on a pidfd cannot mean the process lives on: the end is reported with what is known.
  std::vector<napi_value> arguments(Napi::Env env, int status) {
    pidfd::ExitStatus s;
    if (status == 0) {
      auto r = pidfd::exitStatus(pidfd_);
      if (r) s = r.value();
    }
    return {Napi::Number::New(env, s.code), Napi::Number::New(env, s.signal), Napi::Boolean::New(env, s.known)};
  }

  int pidfd_ = -1;
};

void init(Napi::Env env, Napi::Object exports) { exports.Set("PidWatcher", PidWatcher::define(env, "PidWatcher")); }

Registrar registrar(init);

}  // namespace
}  // namespace interproc::binding
