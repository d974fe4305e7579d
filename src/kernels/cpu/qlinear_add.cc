#include "kernels/cpu/qlinear_add.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kiln::kernels {

// The constant as ONNX Runtime's compiler contracts it: c_zero - fma(ra, a_zero, rb * b_zero) (a
// plain sum of the two rounded products differs in rare cases, measured on MobileNetV2).
__attribute__((optimize("fp-contract=off"))) QLinearAddParams qlinear_add_params(float a_scale, int32_t a_zero, float b_scale,
                                                                                 int32_t b_zero, float c_scale, int32_t c_zero) {
  QLinearAddParams p;
  p.ratio_a = a_scale / c_scale;
  p.ratio_b = b_scale / c_scale;
  p.constant = static_cast<float>(c_zero) - std::fma(p.ratio_a, static_cast<float>(a_zero), p.ratio_b * static_cast<float>(b_zero));
  return p;
}

template <class Q>
__attribute__((optimize("fp-contract=off"))) void qlinear_add_ref(const Q* a, const Q* b, bool b_is_single, int64_t n,
                                                                  const QLinearAddParams& p, Q* c) {
  constexpr float kLow = std::numeric_limits<Q>::lowest(), kHigh = std::numeric_limits<Q>::max();
  const float single = b_is_single ? p.constant + static_cast<float>(b[0]) * p.ratio_b : 0.f;
  for (int64_t i = 0; i < n; ++i) {
    const float partial = b_is_single ? single : std::fma(static_cast<float>(b[i]), p.ratio_b, p.constant);
    const float value = std::nearbyint(std::fma(static_cast<float>(a[i]), p.ratio_a, partial));
    c[i] = static_cast<Q>(std::min(std::max(value, kLow), kHigh));
  }
}

template <class Q>
void qlinear_add(CpuLevel level, const Q* a, const Q* b, bool b_is_single, int64_t n, const QLinearAddParams& p, Q* c) {
  if (level >= CpuLevel::Avx512) return qlinear_add_avx512(a, b, b_is_single, n, p, c);
  qlinear_add_ref(a, b, b_is_single, n, p, c);
}

template void qlinear_add_ref(const uint8_t*, const uint8_t*, bool, int64_t, const QLinearAddParams&, uint8_t*);
template void qlinear_add_ref(const int8_t*, const int8_t*, bool, int64_t, const QLinearAddParams&, int8_t*);
template void qlinear_add(CpuLevel, const uint8_t*, const uint8_t*, bool, int64_t, const QLinearAddParams&, uint8_t*);
template void qlinear_add(CpuLevel, const int8_t*, const int8_t*, bool, int64_t, const QLinearAddParams&, int8_t*);

}  // namespace kiln::kernels
