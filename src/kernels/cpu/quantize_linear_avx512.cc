#include <type_traits>

#include "kernels/cpu/avx512_intrinsics.h"
#include "kernels/cpu/quant_ref.h"
#include "kernels/cpu/quantize_linear.h"

namespace kiln::kernels {

template <class Q>
void quantize_per_tensor_avx512(const float* x, Q* y, int64_t n, float scale, int32_t zero_point) {
  constexpr float kLow = std::is_same_v<Q, uint8_t> ? 0.f : -128.f, kHigh = std::is_same_v<Q, uint8_t> ? 255.f : 127.f;
  const __m512 s = _mm512_set1_ps(scale), zp = _mm512_set1_ps(static_cast<float>(zero_point));
  const __m512 low = _mm512_set1_ps(kLow), high = _mm512_set1_ps(kHigh);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_div_ps(_mm512_loadu_ps(x + i), s);
    v = _mm512_add_ps(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zp);
    // NaN becomes 0, as convert<Q> makes it; then saturate.
    v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v);
    v = _mm512_min_ps(_mm512_max_ps(v, low), high);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(v)));
  }
  if (i < n) quantize_linear_ref(x + i, y + i, 0, n - i, {}, &scale, &zero_point);
}

template <class Q>
void dequantize_per_tensor_avx512(const Q* x, float* y, int64_t n, float scale, int32_t zero_point) {
  const __m512 s = _mm512_set1_ps(scale);
  const __m512i zp = _mm512_set1_epi32(zero_point);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i));
    const __m512i wide = std::is_same_v<Q, uint8_t> ? _mm512_cvtepu8_epi32(bytes) : _mm512_cvtepi8_epi32(bytes);
    _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(wide, zp)), s));
  }
  if (i < n) dequantize_linear_ref(x + i, y + i, 0, n - i, {}, &scale, &zero_point);
}

QuantParams dynamic_quant_params_uint8_avx512(const float* x, int64_t n) {
  // minps/maxps return their second operand when the first is NaN, so NaNs are skipped as the
  // reference's comparisons skip them; lanes start at 0, as its range does. The minimum and maximum
  // do not depend on the order they are taken in.
  __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    lo = _mm512_min_ps(v, lo);
    hi = _mm512_max_ps(v, hi);
  }
  float low = _mm512_reduce_min_ps(lo), high = _mm512_reduce_max_ps(hi);
  for (; i < n; ++i) {
    if (x[i] < low) low = x[i];
    if (x[i] > high) high = x[i];
  }
  return uint8_params_for_range(low, high);
}

template void quantize_per_tensor_avx512(const float*, uint8_t*, int64_t, float, int32_t);
template void quantize_per_tensor_avx512(const float*, int8_t*, int64_t, float, int32_t);
template void dequantize_per_tensor_avx512(const uint8_t*, float*, int64_t, float, int32_t);
template void dequantize_per_tensor_avx512(const int8_t*, float*, int64_t, float, int32_t);

}  // namespace kiln::kernels
