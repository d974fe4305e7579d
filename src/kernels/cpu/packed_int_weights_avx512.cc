// The product of packed Int8/Int4 weights (packed_int_weights.h) with quantized x, one tile at a
// time: a panel's 16 outputs for up to 8 x rows, over every block of the panel. Each block's
// integer dots start at -offset * sum(q), take 8 vpdpbusd per x row, and are scaled into float
// accumulators once (x's block scale, times the weights' group scale unless a row has one).
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/packed_int_weights.h"
#include "kernels/cpu/quantized_activations.h"

namespace kiln::kernels {
namespace {

constexpr int kMaxRowsX = 8;
constexpr int64_t kPanel = PackedIntWeights::kPanel;

// Decode reads the matrix once, faster than the hardware prefetcher ramps up on each panel: every
// line is requested this far ahead (running on into the next panel, which is next in memory).
constexpr int64_t kPrefetchBytes = 4096;

void prefetch(const uint8_t* line) { _mm_prefetch(reinterpret_cast<const char*>(line) + kPrefetchBytes, _MM_HINT_T0); }

// x's 4 codes at p, in every lane.
__m512i broadcast_quad(const int8_t* p) {
  int32_t quad;
  std::memcpy(&quad, p, 4);
  return _mm512_set1_epi32(quad);
}

template <bool kInt4, bool kRowScale, int kX>
void tile(const PackedIntWeights& w, const QuantizedActivations& x, const GemvArgs& a, int64_t panel, int64_t r0) {
  constexpr int32_t kOffset = kInt4 ? 8 : 128;
  const uint8_t* const panel_start = w.data.as<uint8_t>() + panel * w.panel_bytes();
  const int64_t x_stride = x.blocks * 32;
  const int8_t* xq = x.row(r0);
  const float* x_scale = x.scale.data() + r0 * x.blocks;
  const int32_t* x_sum = x.block_sum.data() + r0 * x.blocks;
  const __m512i low_nibbles = _mm512_set1_epi8(0x0F);
  __m512 acc[kX];
  for (auto& v : acc) v = _mm512_setzero_ps();
  // Group by group, each pair's scales first. A row with one scale is one group of every block,
  // its scale applied at the end.
  const uint8_t* p = panel_start;
  __m512 weight_scale = _mm512_setzero_ps(), next_weight_scale = weight_scale;
  for (int64_t g = 0; g < w.groups; ++g) {
    if (g % 2 == 0) {
      prefetch(p);
      const __m512i line = _mm512_load_si512(p);
      weight_scale = _mm512_cvtph_ps(_mm512_castsi512_si256(line));
      next_weight_scale = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(line, 1));
      p += PackedIntWeights::kScaleLineBytes;
    } else {
      weight_scale = next_weight_scale;
    }
    for (int64_t b = g * w.group_blocks; b < (g + 1) * w.group_blocks; ++b, p += w.block_bytes()) {
      const uint8_t* block = p;
      for (int64_t line = 0; line < w.block_bytes(); line += 64) prefetch(block + line);
      __m512i dot[kX];
      for (int i = 0; i < kX; ++i) dot[i] = _mm512_set1_epi32(-kOffset * x_sum[i * x.blocks + b]);
      const int8_t* xb = xq + b * 32;
      if constexpr (kInt4) {
        for (int v = 0; v < 4; ++v) {
          const __m512i packed = _mm512_load_si512(block + 64 * v);
          const __m512i low = _mm512_and_si512(packed, low_nibbles);
          const __m512i high = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low_nibbles);
          for (int i = 0; i < kX; ++i) {
            dot[i] = _mm512_dpbusd_epi32(dot[i], low, broadcast_quad(xb + i * x_stride + 8 * v));
            dot[i] = _mm512_dpbusd_epi32(dot[i], high, broadcast_quad(xb + i * x_stride + 8 * v + 4));
          }
        }
      } else {
        for (int v = 0; v < 8; ++v) {
          const __m512i codes_v = _mm512_load_si512(block + 64 * v);
          for (int i = 0; i < kX; ++i) dot[i] = _mm512_dpbusd_epi32(dot[i], codes_v, broadcast_quad(xb + i * x_stride + 4 * v));
        }
      }
      for (int i = 0; i < kX; ++i) {
        const __m512 s = _mm512_set1_ps(x_scale[i * x.blocks + b]);
        acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[i]), kRowScale ? s : _mm512_mul_ps(s, weight_scale), acc[i]);
      }
    }
  }
  const int64_t j0 = panel * kPanel, n = std::min(kPanel, w.rows - j0);
  const __mmask16 mask = n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
  const __m512 bias = a.bias ? _mm512_maskz_loadu_ps(mask, a.bias + j0) : _mm512_setzero_ps();
  const __m512 row_scale =
      kRowScale ? _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(panel_start))) : _mm512_set1_ps(1.f);
  for (int i = 0; i < kX; ++i) {
    float* y = a.y + (r0 + i) * a.ldy + j0;
    __m512 v = _mm512_fmadd_ps(acc[i], row_scale, bias);
    if (a.accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, y));
    _mm512_mask_storeu_ps(y, mask, v);
  }
}

template <bool kInt4, bool kRowScale>
void matmul(const PackedIntWeights& w, const QuantizedActivations& x, const GemvArgs& a, ThreadPool& pool) {
  pool.parallel_for(w.panels, [&](int64_t begin, int64_t end) {
    for (int64_t panel = begin; panel < end; ++panel)
      for (int64_t r0 = 0; r0 < a.x_rows; r0 += kMaxRowsX) {
        switch (std::min<int64_t>(kMaxRowsX, a.x_rows - r0)) {
          case 1: tile<kInt4, kRowScale, 1>(w, x, a, panel, r0); break;
          case 2: tile<kInt4, kRowScale, 2>(w, x, a, panel, r0); break;
          case 3: tile<kInt4, kRowScale, 3>(w, x, a, panel, r0); break;
          case 4: tile<kInt4, kRowScale, 4>(w, x, a, panel, r0); break;
          case 5: tile<kInt4, kRowScale, 5>(w, x, a, panel, r0); break;
          case 6: tile<kInt4, kRowScale, 6>(w, x, a, panel, r0); break;
          case 7: tile<kInt4, kRowScale, 7>(w, x, a, panel, r0); break;
          default: tile<kInt4, kRowScale, 8>(w, x, a, panel, r0); break;
        }
      }
  });
}

}  // namespace

void packed_int_matmul(const PackedIntWeights& w, const GemvArgs& a, ThreadPool& pool) {
  // Kept between calls (decode quantizes x at every step); the workers read the caller's copy.
  thread_local QuantizedActivations callers_x;
  QuantizedActivations& x = callers_x;
  quantize_activations(CpuLevel::Avx512, a.x, a.ldx, a.x_rows, w.cols, x, pool);
  if (w.format == WeightFormat::Int4) return matmul<true, false>(w, x, a, pool);
  if (w.groups == 1) return matmul<false, true>(w, x, a, pool);
  matmul<false, false>(w, x, a, pool);
}

}  // namespace kiln::kernels
