// Per-environment (main thread or worker) state of the addon: the blocking pool and the live
// mappings, torn down by an env cleanup hook so a worker's exit unmaps everything it mapped.
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>
#include <vector>

#include "binding/internal/blocking_pool.hpp"

namespace interproc::binding {

class Mapping;

struct AddonData {
  std::unique_ptr<BlockingPool> pool;
  std::mutex mappingsMutex;
  std::vector<std::weak_ptr<Mapping>> mappings;
  // Set from JS at load (lib/internal/binding.ts): blocking calls in a worker sleep in slices and give up
  // when the worker is being terminated, since a raw futex sleep cannot be interrupted by it.
  bool isWorker = false;
  Napi::FunctionReference noop;
  // True when JS can no longer run in this environment (worker.terminate(), process exit).
  bool terminating(Napi::Env env);

  static void install(Napi::Env env);
  static AddonData& of(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }
  void track(const std::shared_ptr<Mapping>& m);

 private:
  static void cleanup(void* arg);
};

}  // namespace interproc::binding
