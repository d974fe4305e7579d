// The NCHWc convolution on AVX-512: 16-channel blocks, strips of up to 14 pixels times two blocks
// (28 zmm accumulators; the 14 broadcasts fold into the FMAs as {1to16} memory operands).
#include <immintrin.h>

#include "kernels/cpu/nchwc_conv_impl.h"

namespace kiln::kernels {
namespace {

struct Avx512Vec {
  using V = __m512;
  static constexpr int kBlock = 16, kMaxPixels = 14;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V broadcast(float x) { return _mm512_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V leaky_relu(V v, float slope) {
    return _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, zero(), _CMP_LT_OQ), v, broadcast(slope));
  }
};

}  // namespace

const NchwcConvIsa& nchwc_conv_isa_avx512() { return kNchwcConvIsa<Avx512Vec>; }

}  // namespace kiln::kernels
