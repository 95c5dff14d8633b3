#include "blocking_pool.hpp"

#include <chrono>

#include "addon_data.hpp"

namespace interproc::binding {

BlockingPool::BlockingPool(Napi::Env env) : env_(env) {
  tsfn_ = Tsfn::New(env, "interproc.blocking", 0, 1, nullptr);
  tsfn_.Unref(env);
}

BlockingPool::~BlockingPool() { shutdown(); }

void BlockingPool::shutdown() {
  std::vector<std::thread> threads;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    for (BlockingJob* job : queue_) {  // never started: nothing to interrupt
      live_.erase(job->id_);
      delete job;
    }
    queue_.clear();
    // A cancel can race with a job that has not yet entered its wait, so repeat until all returned.
    while (!live_.empty()) {
      for (auto& [id, job] : live_) job->cancel(CancelReason::Teardown);
      wake_.wait_for(lock, std::chrono::milliseconds(5));
    }
    wake_.notify_all();
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
  tsfn_.Abort();
}

uint32_t BlockingPool::submit(std::unique_ptr<BlockingJob> job) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (pending_++ == 0) tsfn_.Ref(env_);
  uint32_t id = nextId_++;
  if (nextId_ == 0) nextId_ = 1;
  job->id_ = id;
  live_[id] = job.get();
  queue_.push_back(job.release());
  // Every queued job needs a thread of its own (a job may block for as long as it likes): idle
  // threads that were notified but have not yet woken still count in idle_, so compare with the queue.
  if (queue_.size() > idle_) {
    threads_.emplace_back([this] { workerLoop(); });
  } else {
    wake_.notify_one();
  }
  return id;
}

bool BlockingPool::cancel(uint32_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(id);
  if (it == live_.end()) return false;
  it->second->cancel(CancelReason::Aborted);
  return true;
}

void BlockingPool::completed() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (--pending_ == 0) tsfn_.Unref(env_);
}

size_t BlockingPool::threadCount() {
  std::lock_guard<std::mutex> lock(mutex_);
  return threads_.size();
}

void BlockingPool::workerLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    while (queue_.empty() && !stopping_) {
      ++idle_;
      wake_.wait(lock);
      --idle_;
    }
    if (stopping_) return;
    BlockingJob* job = queue_.front();
    queue_.pop_front();
    lock.unlock();
    job->execute();
    lock.lock();
    live_.erase(job->id_);
    if (stopping_) {
      delete job;
      wake_.notify_all();
      return;
    }
    if (tsfn_.NonBlockingCall(job) != napi_ok) delete job;  // environment is closing
  }
}

void BlockingPool::onComplete(Napi::Env env, Napi::Function, std::nullptr_t*, BlockingJob* job) {
  std::unique_ptr<BlockingJob> owned(job);
  if (env == nullptr) return;  // TSFN finalizing: the environment is going away
  AddonData::of(env).pool->completed();
  job->complete(env);
}

}  // namespace interproc::binding
