// Per-environment (main thread or worker) state of the addon: the blocking pool and the live
// mappings, torn down by an env cleanup hook so a worker's exit unmaps everything it mapped.
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>
#include <vector>

#include "blocking_pool.hpp"

namespace interproc::binding {

class Mapping;

struct AddonData {
  std::unique_ptr<BlockingPool> pool;
  std::mutex mappingsMutex;
  std::vector<std::weak_ptr<Mapping>> mappings;

  static void install(Napi::Env env);
  static AddonData& of(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }
  void track(const std::shared_ptr<Mapping>& m);

 private:
  static void cleanup(void* arg);
};

}  // namespace interproc::binding
