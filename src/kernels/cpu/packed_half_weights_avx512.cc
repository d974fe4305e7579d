// The products of packed Float16/BFloat16 weights (packed_half_weights.h): a panel's 64 outputs
// for up to 4 x rows at a time, input by input, each converted weight vector multiplied into every
// row's accumulator by that row's value broadcast.
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/packed_half_weights.h"

namespace kiln::kernels {
namespace {

constexpr int64_t kPanel = PackedHalfWeights::kPanel;
constexpr int kVectors = kPanel / 16;  // of 16 outputs each, per input
// 4 x rows keep 16 accumulators; more rows take further passes over the panel, from L2.
constexpr int kMaxRowsX = 4;
// Decode streams the matrix once; every line is requested this far ahead (running on into the
// next panel, which is next in memory), as the int8/int4 kernel does.
constexpr int64_t kPrefetchBytes = 16384;

template <bool kBF16>
__m512 load_weights(const uint16_t* p) {
  const __m256i bits = _mm256_load_si256(reinterpret_cast<const __m256i*>(p));
  if constexpr (kBF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
  return _mm512_cvtph_ps(bits);
}

// One x row's FMAs chain on each accumulator 4 cycles apart; alternating two sets of them by
// input keeps them from waiting on each other. Two or more rows are enough side by side.
template <int kX>
constexpr int kChains = kX == 1 ? 2 : 1;

template <bool kBF16, int kX>
void tile(const PackedHalfWeights& w, const GemvArgs& a, int64_t panel, int64_t r0) {
  constexpr int chains = kChains<kX>;
  const uint16_t* p = w.panel(panel);
  const float* x = a.x + r0 * a.ldx;
  __m512 acc[chains][kX][kVectors];
  for (auto& chain : acc)
    for (auto& row : chain)
      for (auto& v : row) v = _mm512_setzero_ps();
  // Input k: its 64 outputs' weights are two lines, each vector converted once for every x row.
  const auto input = [&](int64_t k, __m512 (&sums)[kX][kVectors]) __attribute__((always_inline)) {
    const uint16_t* in = p + k * kPanel;
    const auto* ahead = reinterpret_cast<const char*>(in) + kPrefetchBytes;
    _mm_prefetch(ahead, _MM_HINT_T0);
    _mm_prefetch(ahead + 64, _MM_HINT_T0);
    __m512 xs[kX];
    for (int i = 0; i < kX; ++i) xs[i] = _mm512_set1_ps(x[i * a.ldx + k]);
    for (int v = 0; v < kVectors; ++v) {
      const __m512 wv = load_weights<kBF16>(in + 16 * v);
      for (int i = 0; i < kX; ++i) sums[i][v] = _mm512_fmadd_ps(wv, xs[i], sums[i][v]);
    }
  };
  int64_t k = 0;
  for (; k + chains <= w.cols; k += chains)
    for (int c = 0; c < chains; ++c) input(k + c, acc[c]);
  for (; k < w.cols; ++k) input(k, acc[0]);
  for (int v = 0; v < kVectors; ++v) {
    const int64_t j0 = panel * kPanel + 16 * v, n = std::min<int64_t>(16, w.rows - j0);
    if (n <= 0) break;
    const __mmask16 mask = n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
    const __m512 bias = a.bias ? _mm512_maskz_loadu_ps(mask, a.bias + j0) : _mm512_setzero_ps();
    for (int i = 0; i < kX; ++i) {
      __m512 sum = bias;
      for (int c = 0; c < chains; ++c) sum = _mm512_add_ps(sum, acc[c][i][v]);
      float* y = a.y + (r0 + i) * a.ldy + j0;
      if (a.accumulate) sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(mask, y));
      _mm512_mask_storeu_ps(y, mask, sum);
    }
  }
}

template <bool kBF16>
void gemv(const PackedHalfWeights& w, const GemvArgs& a, ThreadPool& pool) {
  pool.parallel_for(w.panels, [&](int64_t begin, int64_t end) {
    for (int64_t panel = begin; panel < end; ++panel)
      for (int64_t r0 = 0; r0 < a.x_rows; r0 += kMaxRowsX) {
        switch (std::min<int64_t>(kMaxRowsX, a.x_rows - r0)) {
          case 1: tile<kBF16, 1>(w, a, panel, r0); break;
          case 2: tile<kBF16, 2>(w, a, panel, r0); break;
          case 3: tile<kBF16, 3>(w, a, panel, r0); break;
          default: tile<kBF16, 4>(w, a, panel, r0); break;
        }
      }
  });
}

template <bool kBF16>
void unpack(const PackedHalfWeights& w, int64_t first, int64_t count, float* out, int64_t ld) {
  for (int64_t p = 0; p < count; ++p) {
    const uint16_t* panel = w.panel(first + p);
    for (int64_t k = 0; k < w.cols; ++k)
      for (int v = 0; v < kVectors; ++v)
        _mm512_storeu_ps(out + k * ld + p * kPanel + 16 * v, load_weights<kBF16>(panel + k * kPanel + 16 * v));
  }
}

}  // namespace

void packed_half_gemv(const PackedHalfWeights& w, const GemvArgs& a, ThreadPool& pool) {
  if (w.format == WeightFormat::BF16) return gemv<true>(w, a, pool);
  gemv<false>(w, a, pool);
}

void unpack_half_panels(const PackedHalfWeights& w, int64_t first, int64_t count, float* out, int64_t ld) {
  if (w.format == WeightFormat::BF16) return unpack<true>(w, first, count, out, ld);
  unpack<false>(w, first, count, out, ld);
}

}  // namespace kiln::kernels
