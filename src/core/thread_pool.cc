#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <immintrin.h>
#include <memory>

namespace kiln {
namespace {

struct ForState {
  std::atomic<int64_t> next_chunk{0};
  int64_t chunks = 0;
  int64_t chunk_size = 0;
  int64_t n = 0;
  const std::function<void(int64_t, int64_t)>* fn = nullptr;
  std::mutex mutex;
  std::condition_variable done;
  std::atomic<int64_t> finished{0};  // written under `mutex`; read without it while spinning
  std::exception_ptr error;

  // Claims chunks until none are left; returns how many this thread ran.
  void drain() {
    int64_t ran = 0;
    for (int64_t c; (c = next_chunk.fetch_add(1)) < chunks; ++ran) {
      const int64_t begin = c * chunk_size;
      try {
        (*fn)(begin, std::min(n, begin + chunk_size));
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error) error = std::current_exception();
      }
    }
    if (ran) {
      std::lock_guard lock(mutex);
      finished += ran;
      if (finished == chunks) done.notify_all();
    }
  }
};

// Polls `ready` until it holds or `spin_us` microseconds pass; returns whether it held.
template <class Ready>
bool spin_until(int spin_us, Ready&& ready) {
  if (spin_us <= 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_us);
  for (int polls = 0;; ++polls) {
    if (ready()) return true;
    _mm_pause();
    if (polls % 64 == 63 && std::chrono::steady_clock::now() >= deadline) return false;
  }
}

}  // namespace

ThreadPool::ThreadPool(int threads, int spin_us) : spin_us_(spin_us) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::worker_loop() {
  for (;;) {
    spin_until(spin_us_, [this] { return queued_.load(std::memory_order_acquire) > 0; });
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      queued_.fetch_sub(1, std::memory_order_relaxed);
    }
    job();
  }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t max_chunks = (n + grain - 1) / grain;
  // A few chunks per thread smooths out uneven chunk costs without much claiming overhead.
  const int64_t chunks = std::min<int64_t>(max_chunks, static_cast<int64_t>(size()) * 4);
  if (workers_.empty() || chunks <= 1) {
    fn(0, n);
    return;
  }
  auto state = std::make_shared<ForState>();
  state->chunk_size = (n + chunks - 1) / chunks;
  state->chunks = (n + state->chunk_size - 1) / state->chunk_size;
  state->n = n;
  state->fn = &fn;
  const int64_t helpers = std::min<int64_t>(static_cast<int64_t>(workers_.size()), state->chunks - 1);
  {
    std::lock_guard lock(mutex_);
    for (int64_t i = 0; i < helpers; ++i) queue_.emplace_back([state] { state->drain(); });
    queued_.fetch_add(helpers, std::memory_order_release);
  }
  if (helpers == 1) wake_.notify_one(); else wake_.notify_all();
  state->drain();
  spin_until(spin_us_, [&] { return state->finished.load(std::memory_order_acquire) == state->chunks; });
  std::unique_lock lock(state->mutex);
  state->done.wait(lock, [&] { return state->finished == state->chunks; });
  if (state->error) std::rethrow_exception(state->error);
}

}  // namespace kiln
