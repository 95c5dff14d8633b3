#include "binding/internal/blocking_pool.hpp"

#include <chrono>
#include <string>
#include <system_error>

#include "binding/internal/addon_data.hpp"

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
      wake_.wait_until(lock, std::chrono::system_clock::now() + std::chrono::milliseconds(5));
    }
    wake_.notify_all();
    for (std::thread& t : threads_) threads.push_back(std::move(t));
    threads_.clear();
    for (std::thread& t : retired_) threads.push_back(std::move(t));
    retired_.clear();
  }
  for (std::thread& t : threads) t.join();
  tsfn_.Abort();
}

void BlockingPool::joinRetired() {
  ThreadList done;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done.splice(done.end(), retired_);
  }
  for (std::thread& t : done) t.join();  // they have left workerLoop: this returns at once
}

uint32_t BlockingPool::submit(std::unique_ptr<BlockingJob> job) {
  joinRetired();
  std::lock_guard<std::mutex> lock(mutex_);
  // Every queued job needs a thread of its own (a job may block for as long as it likes): idle
  // threads that were notified but have not yet woken still count in idle_, so compare with the queue.
  // The thread is started before anything is recorded, so a failure to start one changes nothing.
  if (queue_.size() + 1 > idle_) {
    try {
      auto self = threads_.emplace(threads_.end());
      try {
        *self = std::thread([this, self] { workerLoop(self); });
      } catch (...) {
        threads_.erase(self);
        throw;
      }
    } catch (const std::system_error& e) {
      throw Napi::Error::New(env_, std::string("EAGAIN: cannot start a waiter thread (") + e.what() + ")");
    }
  }
  if (pending_++ == 0) tsfn_.Ref(env_);
  uint32_t id = nextId_++;
  if (nextId_ == 0) nextId_ = 1;
  job->id_ = id;
  live_[id] = job.get();
  queue_.push_back(job.release());
  wake_.notify_one();
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

void BlockingPool::setIdleTimeout(std::chrono::milliseconds t) {
  std::lock_guard<std::mutex> lock(mutex_);
  idleTimeout_ = t;
  wake_.notify_all();  // idle threads re-arm their wait with the new timeout
}

void BlockingPool::workerLoop(ThreadList::iterator self) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    while (queue_.empty() && !stopping_) {
      ++idle_;
      // With only a few threads there is nothing to retire: sleep without a timer. (At most
      // kKeepThreads threads can be in this untimed wait, so the pool still shrinks back to them.)
      bool timedOut = false;
      if (threads_.size() <= kKeepThreads) wake_.wait(lock);
      else
        timedOut = wake_.wait_until(lock, std::chrono::system_clock::now() + idleTimeout_) == std::cv_status::timeout;
      --idle_;
      // Retire only with nothing queued (submit counted on idle threads for those) and more than
      // kKeepThreads threads. This thread's std::thread moves to retired_ (a splice: nothing can
      // throw here), and the threads retired before it are joined now, so at most one finished
      // thread at a time waits for its join (a finished, unjoined thread keeps its stack).
      if (timedOut && queue_.empty() && !stopping_ && threads_.size() > kKeepThreads) {
        ThreadList before;
        before.splice(before.end(), retired_);
        retired_.splice(retired_.end(), threads_, self);
        lock.unlock();
        for (std::thread& t : before) t.join();
        return;
      }
    }
    if (stopping_) return;
    BlockingJob* job = queue_.front();
    queue_.pop_front();
    lock.unlock();
    job->execute();
    lock.lock();
    job->markFinished();
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
