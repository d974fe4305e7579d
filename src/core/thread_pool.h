// A fixed pool of worker threads handed to kernels; never global. parallel_for may be called from
// several threads at once: each call has its own state, so concurrent Session::run calls can share
// one pool.
//
// Locality: a call cuts [0, n) into one contiguous part per thread, and part i always goes to the
// same thread (the caller takes part 0, worker i part i). Consecutive kernels that cut their work
// alike (a network's row bands) so find their inputs in the cache of the core that wrote them; on
// a machine whose cores share no cache, reading a line another core wrote costs several times a
// local read. A thread that finishes its part takes pieces from the far end of another's, which
// evens out late starts and uneven items without moving the rest.
//
// Waiting: workers sleep on a condition variable between jobs. Waking a sleeping thread costs a
// futex call and, on a virtual machine, an interrupt through the hypervisor: tens of microseconds.
// The caller, once every piece is taken, waits for the pieces still running elsewhere by polling
// for at most kJoinPollMicros before it sleeps; that wait is bounded by one piece of this call's
// own work. Idle workers never poll unless spin_us > 0, which lets a network's back-to-back
// parallel regions find them awake. Off by default: spinning burns a core that others may want.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
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

  // Runs fn(begin, end) over [0, n) in pieces of at least `grain` items (fewer only when n is),
  // on the calling thread and the workers, and returns when all are done: below 2 * grain items
  // everything runs inline. The first exception
  // thrown is rethrown after every piece has finished.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain = 1);

 private:
  struct Worker;
  void worker_loop(Worker& self);

  std::vector<std::unique_ptr<Worker>> workers_;
  int spin_us_;
};

}  // namespace kiln
