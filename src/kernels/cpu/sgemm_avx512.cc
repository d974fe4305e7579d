// AVX-512 SGEMM micro-kernels: 14 x 32 tiles (28 zmm accumulators; the 14 broadcasts of A fold
// into the FMAs as embedded {1to16} memory operands, leaving registers for the two B vectors).
// Zen 4 issues one 512-bit FMA per cycle, so 28 independent accumulators cover its 4-cycle
// latency several times over. Partial tiles store through masks.
#include <immintrin.h>

#include "kernels/cpu/gemm_packing.h"
#include "kernels/cpu/tile_epilogue.h"

namespace kiln::kernels {
namespace {

constexpr int64_t kMr = 14, kNr = 32;

// Row r's biases, residual and activation on the tile row halves held in v.
inline void finish_row(const TileEpilogue& e, int r, __mmask16 m_lo, __mmask16 m_hi, __m512& v_lo, __m512& v_hi) {
  if (e.row_bias) {
    const __m512 bias = _mm512_set1_ps(e.row_bias[r]);
    v_lo = _mm512_add_ps(v_lo, bias);
    v_hi = _mm512_add_ps(v_hi, bias);
  }
  if (e.col_bias) {
    v_lo = _mm512_add_ps(v_lo, _mm512_maskz_loadu_ps(m_lo, e.col_bias));
    v_hi = _mm512_add_ps(v_hi, _mm512_maskz_loadu_ps(m_hi, e.col_bias + 16));
  }
  if (e.residual) {
    const float* residual = e.residual + r * e.residual_ld;
    v_lo = _mm512_add_ps(v_lo, _mm512_maskz_loadu_ps(m_lo, residual));
    v_hi = _mm512_add_ps(v_hi, _mm512_maskz_loadu_ps(m_hi, residual + 16));
  }
  const Activation& act = e.activation;
  if (act.kind == ActivationKind::Relu) {
    v_lo = _mm512_max_ps(v_lo, _mm512_setzero_ps());
    v_hi = _mm512_max_ps(v_hi, _mm512_setzero_ps());
  } else if (act.kind == ActivationKind::Clip) {
    const __m512 lo = _mm512_set1_ps(act.alpha), hi = _mm512_set1_ps(act.beta);
    v_lo = _mm512_min_ps(_mm512_max_ps(v_lo, lo), hi);
    v_hi = _mm512_min_ps(_mm512_max_ps(v_hi, lo), hi);
  } else if (act.kind == ActivationKind::LeakyRelu) {
    const __m512 slope = _mm512_set1_ps(act.alpha), zero = _mm512_setzero_ps();
    v_lo = _mm512_mask_mul_ps(v_lo, _mm512_cmp_ps_mask(v_lo, zero, _CMP_LT_OQ), v_lo, slope);
    v_hi = _mm512_mask_mul_ps(v_hi, _mm512_cmp_ps_mask(v_hi, zero, _CMP_LT_OQ), v_hi, slope);
  }
}

template <int Rows>
void tile_14x32(int64_t kc, const float* a, int64_t a_step, const float* b, float* c, int64_t ldc, int64_t cols,
                float alpha, bool accumulate, const TileEpilogue* epilogue) {
  __m512 lo[Rows], hi[Rows];
#pragma GCC unroll 14
  for (int r = 0; r < Rows; ++r) lo[r] = hi[r] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b_lo = _mm512_load_ps(b), b_hi = _mm512_load_ps(b + 16);
#pragma GCC unroll 14
    for (int r = 0; r < Rows; ++r) {
      const __m512 av = _mm512_set1_ps(a[r]);
      lo[r] = _mm512_fmadd_ps(av, b_lo, lo[r]);
      hi[r] = _mm512_fmadd_ps(av, b_hi, hi[r]);
    }
    a += a_step;
    b += kNr;
  }
  const __mmask16 m_lo = cols >= 16 ? 0xffff : static_cast<__mmask16>((1u << cols) - 1);
  const __mmask16 m_hi = cols >= 32 ? 0xffff : cols <= 16 ? 0 : static_cast<__mmask16>((1u << (cols - 16)) - 1);
  const __m512 scale = _mm512_set1_ps(alpha);
#pragma GCC unroll 14
  for (int r = 0; r < Rows; ++r) {
    float* row = c + r * ldc;
    __m512 v_lo = _mm512_mul_ps(lo[r], scale), v_hi = _mm512_mul_ps(hi[r], scale);
    if (accumulate) {
      v_lo = _mm512_add_ps(v_lo, _mm512_maskz_loadu_ps(m_lo, row));
      v_hi = _mm512_add_ps(v_hi, _mm512_maskz_loadu_ps(m_hi, row + 16));
    }
    if (epilogue) finish_row(*epilogue, r, m_lo, m_hi, v_lo, v_hi);
    _mm512_mask_storeu_ps(row, m_lo, v_lo);
    _mm512_mask_storeu_ps(row + 16, m_hi, v_hi);
  }
}

template <int... Rows>
constexpr MicroKernel kTiles[] = {&tile_14x32<Rows>...};

}  // namespace

const GemmIsa& gemm_isa_avx512() {
  static const GemmIsa isa{kMr, kNr, 256, 168, 4096, kTiles<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14>,
                           &apply_tile_epilogue,
                           &pack_a_panel, &pack_b_panels, &pack_im2col_panels};
  return isa;
}

}  // namespace kiln::kernels
