// The NCHWc convolution on AVX2: 8-channel blocks, strips of up to 6 pixels times two blocks
// (12 ymm accumulators, two filter vectors and a broadcast in the 16 registers).
#include <immintrin.h>

#include "kernels/cpu/nchwc_conv_impl.h"

namespace kiln::kernels {
namespace {

struct Avx2Vec {
  using V = __m256;
  static constexpr int kBlock = 8, kMaxPixels = 6;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V broadcast(float x) { return _mm256_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V leaky_relu(V v, float slope) {
    return _mm256_blendv_ps(v, _mm256_mul_ps(v, broadcast(slope)), _mm256_cmp_ps(v, zero(), _CMP_LT_OQ));
  }
};

}  // namespace

const NchwcConvIsa& nchwc_conv_isa_avx2() { return kNchwcConvIsa<Avx2Vec>; }

}  // namespace kiln::kernels
