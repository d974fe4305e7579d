// read_bandwidth [THREADS ...]: this machine's memory read bandwidth in GB/s (1e9 bytes/s) on each
// thread count given (default: 1 and one per core), from reading a 1 GiB buffer, far larger than
// any cache. Prints one JSON line:
//   {"buffer_bytes": 1073741824, "isa": "avx512", "gb_per_s": {"1": 38.2, "2": 52.6}}
// bench/llm/run.sh divides each engine's weight bytes per generated token by it: the roofline of
// token generation, which reads every weight once per token.
//
// Each thread reads its own contiguous share, as a matrix-vector product split by rows does, with
// several independent accumulators so that loads, not adds, are the limit. A pass is timed from a
// common start to the slowest thread's end; the best of several passes is reported, as other
// load on the machine can only lower it.
#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "../thread_counts.h"

namespace {

constexpr size_t kBufferBytes = size_t{1} << 30;
constexpr size_t kAlignment = size_t{2} << 20;  // a huge page, so TLB misses do not cap the reads
constexpr int kPasses = 10;

// The sum of `bytes` bytes (a multiple of 512) from 64-byte-aligned `p`, 8 zmm loads per step.
__attribute__((target("avx512f"))) uint64_t read_avx512(const std::byte* p, size_t bytes) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  for (const std::byte* end = p + bytes; p < end; p += 512) {
    const auto* v = reinterpret_cast<const __m512i*>(p);
    a0 = _mm512_add_epi64(a0, _mm512_add_epi64(_mm512_load_si512(v + 0), _mm512_load_si512(v + 1)));
    a1 = _mm512_add_epi64(a1, _mm512_add_epi64(_mm512_load_si512(v + 2), _mm512_load_si512(v + 3)));
    a2 = _mm512_add_epi64(a2, _mm512_add_epi64(_mm512_load_si512(v + 4), _mm512_load_si512(v + 5)));
    a3 = _mm512_add_epi64(a3, _mm512_add_epi64(_mm512_load_si512(v + 6), _mm512_load_si512(v + 7)));
  }
  // Through memory, not _mm512_reduce_add_epi64, which trips g++ 12's -Wuninitialized.
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)));
  uint64_t sum = 0;
  for (const uint64_t lane : lanes) sum += lane;
  return sum;
}

// The same without AVX-512, for CPUs that lack it (the compiler vectorizes it for the base ISA).
uint64_t read_portable(const std::byte* p, size_t bytes) {
  const auto* v = reinterpret_cast<const uint64_t*>(p);
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (size_t i = 0; i < bytes / 8; i += 4) {
    a0 += v[i];
    a1 += v[i + 1];
    a2 += v[i + 2];
    a3 += v[i + 3];
  }
  return a0 + a1 + a2 + a3;
}

std::atomic<uint64_t> g_sink{0};  // keeps the sums alive so the reads are not optimized away

// GB/s of `threads` threads reading `buffer` once, best of kPasses.
double measure(uint64_t (*read)(const std::byte*, size_t), const std::byte* buffer, int threads) {
  const size_t share = kBufferBytes / static_cast<size_t>(threads) / 512 * 512;
  double best = 0;
  for (int pass = 0; pass < kPasses; ++pass) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        ready.fetch_add(1);
        while (!go.load()) {
        }
        g_sink.fetch_add(read(buffer + static_cast<size_t>(t) * share, share));
      });
    while (ready.load() < threads) {
    }
    const auto start = std::chrono::steady_clock::now();
    go.store(true);
    for (auto& t : pool) t.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(share) * threads / seconds / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<int> counts = thread_counts(argc, argv, "read_bandwidth");
  auto* buffer = static_cast<std::byte*>(std::aligned_alloc(kAlignment, kBufferBytes));
  if (!buffer) {
    std::fprintf(stderr, "read_bandwidth: cannot allocate %zu bytes\n", kBufferBytes);
    return 1;
  }
  madvise(buffer, kBufferBytes, MADV_HUGEPAGE);  // advice only: without huge pages it still runs
  std::memset(buffer, 1, kBufferBytes);           // every page faulted in before any timing
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f");
  std::printf("{\"buffer_bytes\": %zu, \"isa\": \"%s\", \"gb_per_s\": {", kBufferBytes, avx512 ? "avx512" : "portable");
  for (size_t i = 0; i < counts.size(); ++i)
    std::printf("%s\"%d\": %.1f", i ? ", " : "", counts[i], measure(avx512 ? read_avx512 : read_portable, buffer, counts[i]));
  std::printf("}}\n");
  std::fflush(stdout);
  std::free(buffer);
  return 0;
}
