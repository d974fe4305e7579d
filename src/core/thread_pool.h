// A fixed pool of worker threads handed to kernels; never global. Workers sleep on a condition
// variable between jobs. parallel_for may be called from several threads at once: each call has
// its own completion state, so concurrent Session::run calls can share one pool.
//
// Waking a sleeping thread costs a futex call and, on a virtual machine, an inter-processor
// interrupt through the hypervisor: tens of microseconds per parallel region. With spin_us > 0,
// workers (and a caller waiting for them) first poll for that long before sleeping, which keeps a
// network's back-to-back parallel regions on awake threads. Off by default: spinning burns a core
// that other processes may want.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln {

class ThreadPool {
 public:
  // `threads` counts the calling thread: 1 means no workers, everything runs inline.
  explicit ThreadPool(int threads, int spin_us = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs fn(begin, end) over [0, n) in chunks of at least `grain` items, on the workers and the
  // calling thread, and returns when all chunks are done. The first exception thrown is rethrown.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain = 1);

 private:
  void worker_loop();

  std::vector<std::thread> workers_;
  std::deque<std::function<void()>> queue_;
  std::atomic<int64_t> queued_{0};  // queue_.size(), readable without the mutex while spinning
  int spin_us_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace kiln
