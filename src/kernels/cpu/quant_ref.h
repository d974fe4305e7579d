// Reference math of linear 8-bit quantization: quantize, dequantize, DynamicQuantizeLinear's
// parameters, the integer GEMM with zero points and int32 accumulation, and the requantization
// epilogue. These are the scalar oracles that the fast int8 kernels are tested against.
//
// Rounding is to nearest with ties to even: std::nearbyint under the default floating-point
// rounding mode, which Kiln never changes. Callers form requantization multipliers in float as
// input scale * weight scale / output scale, the order ONNX Runtime uses, so that ties and
// saturation fall on the same values as there.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/cpu/convert.h"

namespace kiln::kernels {

// saturate(round(scaled) + zero_point) in Q's range; NaN becomes 0.
template <class Q>
Q round_to_quantized(float scaled, int32_t zero_point) {
  return convert<Q>(std::nearbyint(scaled) + static_cast<float>(zero_point));
}

// Elements of a tensor grouped by the channel they are quantized with: element e belongs to
// channel (e / inner) % channels. Per-tensor quantization is channels == 1.
struct ChannelLayout {
  int64_t channels = 1;
  int64_t inner = 1;
};

// y[e] = saturate(round(x[e] / scales[c]) + zero_points[c]) for e in [begin, end), c its channel.
// The range lets callers split one tensor across threads.
template <class In, class Q>
void quantize_linear_ref(const In* x, Q* y, int64_t begin, int64_t end, const ChannelLayout& layout,
                         const float* scales, const int32_t* zero_points);

// y[e] = (x[e] - zero_points[c]) * scales[c] for e in [begin, end), c its channel.
template <class Q>
void dequantize_linear_ref(const Q* x, float* y, int64_t begin, int64_t end, const ChannelLayout& layout,
                           const float* scales, const int32_t* zero_points);

struct QuantParams {
  float scale = 1.f;
  int32_t zero_point = 0;
};

// DynamicQuantizeLinear's uint8 parameters: [min(x, 0), max(x, 0)] maps onto [0, 255]. An
// all-zero (or empty) x gets scale 1, as in ONNX Runtime, instead of dividing by a zero scale.
// NaNs are ignored.
QuantParams dynamic_quant_params_uint8(const float* x, int64_t n);
// The same parameters from the range's ends, lo <= 0 <= hi: what every level's version shares.
QuantParams uint8_params_for_range(float lo, float hi);

// C[i, j] = sum over k of (A[i, k] - a_zero_points[i]) * (B[k, j] - b_zero_points[j]) for dense
// row-major A [M, K], B [K, N] and C [M, N] (overwritten). Each product fits int32; the sum is
// accumulated in int32 and wraps on overflow, as ONNX allows and int8 hardware does.
template <class TA, class TB>
void gemm_integer_ref(int64_t M, int64_t N, int64_t K, const TA* A, const int32_t* a_zero_points, const TB* B,
                      const int32_t* b_zero_points, int32_t* C);

// y[j] = saturate(round((acc[j] + bias) * multipliers[j * multiplier_step]) + zero_point) for j in
// [0, n): requantization of int32 accumulators, where a multiplier is input scale * weight scale /
// output scale. multiplier_step is 0 for one multiplier for all of y, 1 for one per element.
template <class Q>
void requantize_ref(int64_t n, const int32_t* acc, int32_t bias, const float* multipliers, int64_t multiplier_step,
                    int32_t zero_point, Q* y);

}  // namespace kiln::kernels
