// Runs blocking waits (futex sleeps, lock acquisitions) on native threads owned by this addon, never
// on the libuv thread pool (a pool slot held by a wait would starve fs, dns and zlib). A finished job
// is handed back to the JS thread through one ThreadSafeFunction per environment, which is ref'd only
// while jobs are pending so an idle addon never keeps the process alive. Threads beyond a few that
// stay idle for idleTimeout end, so a burst of a thousand waits does not keep a thousand threads.
#pragma once

#include <napi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace interproc::binding {

// Why a job was cancelled; complete() reports it (Aborted -> AbortError, Closed -> ERR_INVALID_STATE).
enum class CancelReason : int { None, Aborted, Closed, Teardown };

class BlockingJob {
 public:
  virtual ~BlockingJob() = default;
  // On a pool thread: may block, must return soon after interrupt() was called (check cancelled()
  // before blocking, and make interrupt() wake the blocking call).
  virtual void execute() = 0;
  // On the JS thread, after execute() returned: settle the promise. Not called at teardown.
  virtual void complete(Napi::Env env) = 0;

  // From any thread: records the first reason and interrupts a running or future execute().
  // Called by AbortSignal (through BlockingPool::cancel), by owners such as SharedMemory.close()
  // that must end waits on their memory, and at environment teardown.
  void cancel(CancelReason why) {
    int none = static_cast<int>(CancelReason::None);
    reason_.compare_exchange_strong(none, static_cast<int>(why));
    interrupt();
  }
  CancelReason cancelReason() const { return static_cast<CancelReason>(reason_.load()); }
  // True when execute() had returned before any cancel(): its result stands (a close() or abort that
  // comes while the completion is queued for the JS thread must not turn a success into an error).
  bool finishedFirst() const { return finishedFirst_.load(); }
  bool cancelled() const { return reason_.load() != static_cast<int>(CancelReason::None); }
  uint32_t id() const { return id_; }

 protected:
  // Wake the blocking call in execute(); it may be called before execute() starts or after it ends.
  virtual void interrupt() = 0;

 private:
  friend class BlockingPool;
  // Called by the pool right after execute() returned.
  void markFinished() { finishedFirst_.store(reason_.load() == static_cast<int>(CancelReason::None)); }
  std::atomic<int> reason_{static_cast<int>(CancelReason::None)};
  std::atomic<bool> finishedFirst_{false};
  uint32_t id_ = 0;
};

class BlockingPool {
 public:
  explicit BlockingPool(Napi::Env env);
  ~BlockingPool();  // cancels every job and joins every thread
  // Queues the job and returns its id (for cancel). The job runs on a pool thread.
  uint32_t submit(std::unique_ptr<BlockingJob> job);
  // Cancels a queued or running job with reason Aborted; false when it already finished.
  bool cancel(uint32_t id);
  size_t threadCount();
  // How long an idle thread waits for a job before it ends while more than kKeepThreads exist
  // (tests shorten it).
  void setIdleTimeout(std::chrono::milliseconds t);
  void completed();  // JS thread: a job's completion ran; unrefs the TSFN when none is pending

  static constexpr size_t kKeepThreads = 4;

 private:
  using ThreadList = std::list<std::thread>;
  void workerLoop(ThreadList::iterator self);
  void joinRetired();
  static void onComplete(Napi::Env env, Napi::Function, std::nullptr_t*, BlockingJob* job);
  void shutdown();

  using Tsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, BlockingJob, &BlockingPool::onComplete>;
  Napi::Env env_;
  Tsfn tsfn_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<BlockingJob*> queue_;         // submitted, not yet taken by a thread
  std::map<uint32_t, BlockingJob*> live_;  // submitted, execute() not yet returned (queued or running)
  uint32_t nextId_ = 1;
  ThreadList threads_;  // running threads; a list, so each keeps its own position
  ThreadList retired_;  // ended after idling: joined by the next thread to end, submit or shutdown
  std::chrono::milliseconds idleTimeout_{10'000};
  size_t idle_ = 0;
  size_t pending_ = 0;  // submitted and not yet completed on the JS thread
  bool stopping_ = false;
};

}  // namespace interproc::binding
