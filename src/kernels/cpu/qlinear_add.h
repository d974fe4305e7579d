// The 8-bit addition of kiln.QLinearAdd, C = Q(DQ(A) + DQ(B)), in ONNX Runtime's arithmetic so that
// a quantized network's residual additions give its integers: with ratios ra = a_scale / c_scale
// and rb = b_scale / c_scale and k = c_zero - fma(ra, a_zero, rb * b_zero), each output is
// round_half_even(fma(a, ra, fma(b, rb, k))), saturated; a single B is folded into k first,
// k + b * rb unfused. It differs from DequantizeLinear -> Add -> QuantizeLinear computed in float by
// at most one step, where a value falls near a rounding boundary.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"

namespace kiln::kernels {

struct QLinearAddParams {
  float ratio_a, ratio_b, constant;
};
QLinearAddParams qlinear_add_params(float a_scale, int32_t a_zero, float b_scale, int32_t b_zero, float c_scale,
                                    int32_t c_zero);

// c[i] = a[i] + b[i] for i in [0, n), or + b[0] for every i when b_is_single. Q is uint8_t or int8_t.
template <class Q>
void qlinear_add_ref(const Q* a, const Q* b, bool b_is_single, int64_t n, const QLinearAddParams& p, Q* c);
template <class Q>
void qlinear_add_avx512(const Q* a, const Q* b, bool b_is_single, int64_t n, const QLinearAddParams& p, Q* c);
template <class Q>
void qlinear_add(CpuLevel level, const Q* a, const Q* b, bool b_is_single, int64_t n, const QLinearAddParams& p, Q* c);

}  // namespace kiln::kernels
