#include "binding/internal/addon_data.hpp"

#include "binding/internal/mapping.hpp"

namespace interproc::binding {

void AddonData::install(Napi::Env env) {
  auto* data = new AddonData();
  data->pool = std::make_unique<BlockingPool>(env);
  env.SetInstanceData<AddonData>(data);  // deleted by Node when the environment goes away
  // Registered after the pool's ThreadSafeFunction exists: hooks run in reverse order, so this
  // one runs first and joins our threads before Node finalizes the TSFN.
  napi_add_env_cleanup_hook(env, &AddonData::cleanup, data);
}

bool AddonData::terminating(Napi::Env env) {
  if (noop.IsEmpty()) return false;
  napi_value result = nullptr;
  napi_status st = napi_call_function(env, env.Undefined(), noop.Value(), 0, nullptr, &result);
  if (st == napi_ok) return false;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
  return true;
}

void AddonData::track(const std::shared_ptr<Mapping>& m) {
  std::lock_guard<std::mutex> lock(mappingsMutex);
  // Drop entries of mappings already gone, so the list stays as long as the live set.
  std::erase_if(mappings, [](const std::weak_ptr<Mapping>& w) { return w.expired(); });
  mappings.push_back(m);
}

void AddonData::cleanup(void* arg) {
  auto* data = static_cast<AddonData*>(arg);
  data->pool.reset();  // cancels and joins every waiter thread
  std::vector<std::weak_ptr<Mapping>> all;
  {
    std::lock_guard<std::mutex> lock(data->mappingsMutex);
    all.swap(data->mappings);
  }
  for (auto& w : all) {
    if (auto m = w.lock()) m->close();
  }
}

}  // namespace interproc::binding
