#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <immintrin.h>
#include <limits>

namespace kiln {
namespace {

// Bounds the caller's polling for pieces still running on other threads (see thread_pool.h).
constexpr int kJoinPollMicros = 50;

// A claim takes this fraction of what is left of a part: big pieces while much is left, single
// units near the end, where they even out the threads' finishing times.
constexpr int64_t kPieceDivisor = 4;

// One parallel_for call. Work is counted in units of `unit` items (at least the grain, and few
// enough that a part's [begin, end) packs into one 64-bit word: front and back claims are then
// one compare-and-swap each); the last unit also takes the items that do not fill a whole one.
struct ForState {
  struct alignas(64) Part {
    std::atomic<uint64_t> range{0};  // begin unit in the low 32 bits, end unit in the high 32
  };

  int64_t n = 0, unit = 1, units = 0;
  const std::function<void(int64_t, int64_t)>* fn = nullptr;
  std::vector<Part> parts;
  std::atomic<int64_t> done_units{0};
  std::mutex mutex;
  std::condition_variable all_done;
  std::exception_ptr error;

  static uint64_t pack(int64_t begin, int64_t end) {
    return static_cast<uint64_t>(begin) | static_cast<uint64_t>(end) << 32;
  }

  // Takes a piece from the front of part p (its owner) or from its back (another thread).
  bool claim(size_t p, bool front, int64_t& begin, int64_t& end) {
    uint64_t range = parts[p].range.load(std::memory_order_relaxed);
    for (;;) {
      const auto b = static_cast<int64_t>(range & 0xffffffffu), e = static_cast<int64_t>(range >> 32);
      if (b >= e) return false;
      const int64_t take = std::max<int64_t>(1, (e - b) / kPieceDivisor);
      begin = front ? b : e - take;
      end = front ? b + take : e;
      const uint64_t rest = front ? pack(b + take, e) : pack(b, e - take);
      if (parts[p].range.compare_exchange_weak(range, rest, std::memory_order_acq_rel)) return true;
    }
  }

  void run_piece(int64_t begin, int64_t end) {
    try {
      (*fn)(begin * unit, end == units ? n : end * unit);
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!error) error = std::current_exception();
    }
    if (done_units.fetch_add(end - begin, std::memory_order_acq_rel) + (end - begin) == units) {
      std::lock_guard lock(mutex);
      all_done.notify_all();
    }
  }

  // Runs part `self` from its front, then takes what is left of the others from their backs.
  void work(size_t self) {
    int64_t begin, end;
    while (claim(self, true, begin, end)) run_piece(begin, end);
    for (size_t k = 1; k < parts.size(); ++k) {
      const size_t victim = (self + k) % parts.size();
      while (claim(victim, false, begin, end)) run_piece(begin, end);
    }
  }

  bool finished() const { return done_units.load(std::memory_order_acquire) == units; }
};

// Polls `ready` until it holds or `micros` microseconds pass; returns whether it held.
template <class Ready>
bool poll_until(int micros, Ready&& ready) {
  if (micros <= 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(micros);
  for (int polls = 0;; ++polls) {
    if (ready()) return true;
    _mm_pause();
    if (polls % 64 == 63 && std::chrono::steady_clock::now() >= deadline) return false;
  }
}

}  // namespace

struct ThreadPool::Worker {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::function<void()>> jobs;
  std::atomic<int64_t> queued{0};  // jobs.size(), readable without the mutex while polling
  bool stopping = false;
  std::thread thread;
};

ThreadPool::ThreadPool(int threads, int spin_us) : spin_us_(spin_us) {
  for (int i = 1; i < threads; ++i) workers_.push_back(std::make_unique<Worker>());
  for (auto& w : workers_) w->thread = std::thread([this, &w = *w] { worker_loop(w); });
}

ThreadPool::~ThreadPool() {
  for (auto& w : workers_) {
    {
      std::lock_guard lock(w->mutex);
      w->stopping = true;
    }
    w->wake.notify_one();
  }
  for (auto& w : workers_) w->thread.join();
}

void ThreadPool::worker_loop(Worker& self) {
  for (;;) {
    poll_until(spin_us_, [&] { return self.queued.load(std::memory_order_acquire) > 0; });
    std::function<void()> job;
    {
      std::unique_lock lock(self.mutex);
      self.wake.wait(lock, [&] { return self.stopping || !self.jobs.empty(); });
      if (self.jobs.empty()) return;
      job = std::move(self.jobs.front());
      self.jobs.pop_front();
      self.queued.fetch_sub(1, std::memory_order_relaxed);
    }
    job();
  }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) {
  if (n <= 0) return;
  constexpr int64_t kMaxUnits = std::numeric_limits<int32_t>::max();
  const int64_t unit = std::max({grain, int64_t{1}, (n + kMaxUnits - 1) / kMaxUnits});
  const int64_t units = std::max<int64_t>(1, n / unit);
  const int64_t parts = std::min<int64_t>(units, size());
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  auto state = std::make_shared<ForState>();
  state->n = n;
  state->unit = unit;
  state->units = units;
  state->fn = &fn;
  state->parts = std::vector<ForState::Part>(static_cast<size_t>(parts));
  for (int64_t p = 0; p < parts; ++p)
    state->parts[static_cast<size_t>(p)].range.store(ForState::pack(units * p / parts, units * (p + 1) / parts),
                                                     std::memory_order_relaxed);
  for (int64_t p = 1; p < parts; ++p) {
    Worker& w = *workers_[static_cast<size_t>(p - 1)];
    {
      std::lock_guard lock(w.mutex);
      w.jobs.emplace_back([state, p] { state->work(static_cast<size_t>(p)); });
      w.queued.fetch_add(1, std::memory_order_release);
    }
    w.wake.notify_one();
  }
  state->work(0);
  if (!poll_until(std::max(spin_us_, kJoinPollMicros), [&] { return state->finished(); })) {
    std::unique_lock lock(state->mutex);
    state->all_done.wait(lock, [&] { return state->finished(); });
  }
  std::lock_guard lock(state->mutex);
  if (state->error) std::rethrow_exception(state->error);
}

}  // namespace kiln
