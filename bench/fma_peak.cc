// fma_peak [THREADS ...]: measures this machine's single-precision FMA peak in GFLOP/s, with
// AVX-512 (zmm) and AVX2 (ymm) FMAs, on each thread count given (default: 1 and one per core).
// Prints one JSON line:
//   {"avx512": {"1": 222.2, "2": 424.5}, "avx2": {"1": 111.0, "2": 220.1}}   (Zen 5, 2 cores)
// ("avx512": null where the CPU lacks it). bench/compare.mjs divides achieved GFLOP/s by these.
//
// Each thread runs independent accumulator chains `acc = acc * a + b`. To keep the FMA units busy
// every cycle, the chains must cover latency x throughput: 4 cycles x 2 FMAs/cycle = 8 on Zen 4/5
// and on Intel cores with two 512-bit FMA units. Per core, Zen 4 double-pumps 512-bit FMAs (32
// FLOP/cycle at either width); Zen 5 and such Intel cores reach 64 FLOP/cycle with zmm, 32 with ymm.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "thread_counts.h"

namespace {

// Independent accumulator chains per thread (see the top of the file). AVX2 has only 16 ymm
// registers, two of which hold a and b: 16 chains would spill, 12 do not.
constexpr int kChains512 = 16, kChains256 = 12;
constexpr long kIterations = 20'000'000;  // per thread per measurement: ~0.1-0.3 s
constexpr int kRepeats = 5;               // the best of these is reported

// a < 1 keeps the accumulators bounded (they converge to b / (1 - a)), away from inf and denormals.
constexpr float kA = 0.999999f, kB = 1e-6f;

__attribute__((target("avx512f,fma"))) float chains_avx512(long iterations) {
  __m512 acc[kChains512];
  for (int c = 0; c < kChains512; ++c) acc[c] = _mm512_set1_ps(static_cast<float>(c));
  const __m512 a = _mm512_set1_ps(kA), b = _mm512_set1_ps(kB);
  for (long i = 0; i < iterations; ++i)
#pragma GCC unroll 16  // fully unrolled, so that every chain lives in its own register
    for (int c = 0; c < kChains512; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  float sum = 0;
  for (int c = 0; c < kChains512; ++c) {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, acc[c]);
    for (float v : lanes) sum += v;
  }
  return sum;
}

__attribute__((target("avx2,fma"))) float chains_avx2(long iterations) {
  __m256 acc[kChains256];
  for (int c = 0; c < kChains256; ++c) acc[c] = _mm256_set1_ps(static_cast<float>(c));
  const __m256 a = _mm256_set1_ps(kA), b = _mm256_set1_ps(kB);
  for (long i = 0; i < iterations; ++i)
#pragma GCC unroll 16
    for (int c = 0; c < kChains256; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  float sum = 0;
  for (int c = 0; c < kChains256; ++c) {
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, acc[c]);
    for (float v : lanes) sum += v;
  }
  return sum;
}

std::atomic<float> g_sink{0};  // keeps the results alive so the loops are not optimized away

// GFLOP/s of `threads` threads running `chains` at once, from the wall time of the slowest.
double measure(float (*chains)(long), int flops_per_iteration, int threads) {
  double best = 0;
  for (int r = 0; r < kRepeats; ++r) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        ready.fetch_add(1);
        while (!go.load()) {
        }
        g_sink.fetch_add(chains(kIterations));
      });
    while (ready.load() < threads) {
    }
    const auto start = std::chrono::steady_clock::now();
    go.store(true);
    for (auto& t : pool) t.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double flops = double(flops_per_iteration) * static_cast<double>(kIterations) * threads;
    best = std::max(best, flops / seconds / 1e9);
  }
  return best;
}

void print_level(const char* name, bool supported, float (*chains)(long), int flops_per_iteration,
                 const std::vector<int>& counts) {
  std::printf("\"%s\": ", name);
  if (!supported) {
    std::printf("null");
    return;
  }
  std::printf("{");
  for (size_t i = 0; i < counts.size(); ++i)
    std::printf("%s\"%d\": %.1f", i ? ", " : "", counts[i], measure(chains, flops_per_iteration, counts[i]));
  std::printf("}");
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<int> counts = thread_counts(argc, argv, "fma_peak");
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  std::printf("{");
  print_level("avx512", __builtin_cpu_supports("avx512f"), chains_avx512, 2 * 16 * kChains512, counts);
  std::printf(", ");
  print_level("avx2", avx2, chains_avx2, 2 * 8 * kChains256, counts);
  std::printf("}\n");
  std::fflush(stdout);
  return 0;
}
