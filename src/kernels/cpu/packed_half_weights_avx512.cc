// The products of packed Float16/BFloat16 weights (packed_half_weights.h): a panel's 16 outputs
// for up to 8 x rows at a time, input by input, each converted weight vector multiplied into every
// row's accumulator by that row's value broadcast.
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/packed_half_weights.h"

namespace kiln::kernels {
namespace {

constexpr int kMaxRowsX = 8;
constexpr int64_t kPanel = PackedHalfWeights::kPanel;
// Inputs per step: 4 vectors, two 64-byte lines.
constexpr int64_t kStep = 4;
// Decode streams the matrix once; every line is requested this far ahead (running on into the
// next panel, which is next in memory), as the int8/int4 kernel does.
constexpr int64_t kPrefetchBytes = 8192;

template <bool kBF16>
__m512 load_weights(const uint16_t* p) {
  const __m256i bits = _mm256_load_si256(reinterpret_cast<const __m256i*>(p));
  if constexpr (kBF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
  return _mm512_cvtph_ps(bits);
}

// A few rows' FMAs chain on one accumulator each, 4 cycles apart: 1 row keeps 4 accumulators (one
// per input of a step), 2 rows 2, and 3 or more are enough side by side.
template <int kX>
constexpr int kChains = kX == 1 ? 4 : kX == 2 ? 2 : 1;

template <bool kBF16, int kX>
void tile(const PackedHalfWeights& w, const GemvArgs& a, int64_t panel, int64_t r0) {
  constexpr int chains = kChains<kX>;
  const uint16_t* p = w.panel(panel);
  const float* x = a.x + r0 * a.ldx;
  __m512 acc[chains][kX];
  for (auto& chain : acc)
    for (auto& v : chain) v = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + kStep <= w.cols; k += kStep) {
    const auto* line = reinterpret_cast<const char*>(p + k * kPanel) + kPrefetchBytes;
    _mm_prefetch(line, _MM_HINT_T0);
    _mm_prefetch(line + 64, _MM_HINT_T0);
    for (int u = 0; u < kStep; ++u) {
      const __m512 wv = load_weights<kBF16>(p + (k + u) * kPanel);
      for (int i = 0; i < kX; ++i)
        acc[u % chains][i] = _mm512_fmadd_ps(wv, _mm512_set1_ps(x[i * a.ldx + k + u]), acc[u % chains][i]);
    }
  }
  for (; k < w.cols; ++k) {
    const __m512 wv = load_weights<kBF16>(p + k * kPanel);
    for (int i = 0; i < kX; ++i) acc[0][i] = _mm512_fmadd_ps(wv, _mm512_set1_ps(x[i * a.ldx + k]), acc[0][i]);
  }
  const int64_t j0 = panel * kPanel, n = std::min(kPanel, w.rows - j0);
  const __mmask16 mask = n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
  const __m512 bias = a.bias ? _mm512_maskz_loadu_ps(mask, a.bias + j0) : _mm512_setzero_ps();
  for (int i = 0; i < kX; ++i) {
    __m512 v = bias;
    for (int c = 0; c < chains; ++c) v = _mm512_add_ps(v, acc[c][i]);
    float* y = a.y + (r0 + i) * a.ldy + j0;
    if (a.accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, y));
    _mm512_mask_storeu_ps(y, mask, v);
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
          case 4: tile<kBF16, 4>(w, a, panel, r0); break;
          case 5: tile<kBF16, 5>(w, a, panel, r0); break;
          case 6: tile<kBF16, 6>(w, a, panel, r0); break;
          case 7: tile<kBF16, 7>(w, a, panel, r0); break;
          default: tile<kBF16, 8>(w, a, panel, r0); break;
        }
      }
  });
}

template <bool kBF16>
void unpack(const PackedHalfWeights& w, int64_t first, int64_t count, float* out, int64_t ld) {
  for (int64_t p = 0; p < count; ++p) {
    const uint16_t* panel = w.panel(first + p);
    for (int64_t k = 0; k < w.cols; ++k) _mm512_storeu_ps(out + k * ld + p * kPanel, load_weights<kBF16>(panel + k * kPanel));
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
