#include <type_traits>

#include "kernels/cpu/avx512_intrinsics.h"
#include "kernels/cpu/qlinear_add.h"

namespace kiln::kernels {
namespace {

template <class Q>
__m512 widen(const Q* x) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x));
  return _mm512_cvtepi32_ps(std::is_same_v<Q, uint8_t> ? _mm512_cvtepu8_epi32(bytes) : _mm512_cvtepi8_epi32(bytes));
}

}  // namespace

template <class Q>
void qlinear_add_avx512(const Q* a, const Q* b, bool b_is_single, int64_t n, const QLinearAddParams& p, Q* c) {
  const __m512 ra = _mm512_set1_ps(p.ratio_a), rb = _mm512_set1_ps(p.ratio_b), k = _mm512_set1_ps(p.constant);
  const __m512 single = _mm512_add_ps(k, _mm512_mul_ps(_mm512_set1_ps(static_cast<float>(b[0])), rb));
  const __m512i low = _mm512_set1_epi32(std::is_same_v<Q, uint8_t> ? 0 : -128);
  const __m512i high = _mm512_set1_epi32(std::is_same_v<Q, uint8_t> ? 255 : 127);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 partial = b_is_single ? single : _mm512_fmadd_ps(widen(b + i), rb, k);
    // cvtps rounds to nearest even under the default rounding mode, as nearbyint does.
    const __m512i q = _mm512_cvtps_epi32(_mm512_fmadd_ps(widen(a + i), ra, partial));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(c + i), _mm512_cvtepi32_epi8(_mm512_min_epi32(_mm512_max_epi32(q, low), high)));
  }
  if (i < n) qlinear_add_ref(a + i, b_is_single ? b : b + i, b_is_single, n - i, p, c + i);
}

template void qlinear_add_avx512(const uint8_t*, const uint8_t*, bool, int64_t, const QLinearAddParams&, uint8_t*);
template void qlinear_add_avx512(const int8_t*, const int8_t*, bool, int64_t, const QLinearAddParams&, int8_t*);

}  // namespace kiln::kernels
