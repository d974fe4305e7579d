// quantize_activation_rows_ref's arithmetic, 32 columns per step: the same max, the same scalar
// scale and reciprocal, and a multiply rounded by the default (nearest-even) mode, so the codes
// match the reference bit for bit.
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/quantized_activations.h"

namespace kiln::kernels {

void quantize_activation_rows_avx512(const float* x, int64_t ldx, int64_t r0, int64_t r1, QuantizedActivations& out) {
  const __m512 sign = _mm512_set1_ps(-0.f);
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * ldx;
    int8_t* q = out.q.data() + r * out.blocks * 32;
    for (int64_t b = 0; b < out.blocks; ++b) {
      const int64_t c0 = b * 32, n = std::min<int64_t>(32, out.cols - c0);
      const __mmask16 low = n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
      const __mmask16 high = n >= 32 ? __mmask16(0xFFFF) : n > 16 ? __mmask16((1u << (n - 16)) - 1) : __mmask16(0);
      const __m512 a = _mm512_maskz_loadu_ps(low, xr + c0), c = _mm512_maskz_loadu_ps(high, xr + c0 + 16);
      const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_andnot_ps(sign, a), _mm512_andnot_ps(sign, c)));
      const float s = amax / 127.f, inverse = s != 0.f ? 1.f / s : 0.f;
      const __m512i qa = _mm512_cvtps_epi32(_mm512_mul_ps(a, _mm512_set1_ps(inverse)));
      const __m512i qc = _mm512_cvtps_epi32(_mm512_mul_ps(c, _mm512_set1_ps(inverse)));
      _mm_store_si128(reinterpret_cast<__m128i*>(q + c0), _mm512_cvtsepi32_epi8(qa));
      _mm_store_si128(reinterpret_cast<__m128i*>(q + c0 + 16), _mm512_cvtsepi32_epi8(qc));
      out.scale.data()[r * out.blocks + b] = s;
      out.block_sum.data()[r * out.blocks + b] = _mm512_reduce_add_epi32(_mm512_add_epi32(qa, qc));
    }
  }
}

}  // namespace kiln::kernels
