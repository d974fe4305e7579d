#include "kernels/cpu/quant_ref.h"

#include <algorithm>

namespace kiln::kernels {
namespace {

// Calls fn(first, last, channel) for each run of [begin, end) whose elements share a channel.
template <class F>
void for_each_channel_run(const ChannelLayout& layout, int64_t begin, int64_t end, F&& fn) {
  for (int64_t e = begin; e < end;) {
    const int64_t row = e / layout.inner;
    const int64_t last = std::min(end, (row + 1) * layout.inner);
    fn(e, last, row % layout.channels);
    e = last;
  }
}

int32_t wrapping_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

}  // namespace

template <class In, class Q>
void quantize_linear_ref(const In* x, Q* y, int64_t begin, int64_t end, const ChannelLayout& layout,
                         const float* scales, const int32_t* zero_points) {
  for_each_channel_run(layout, begin, end, [&](int64_t first, int64_t last, int64_t c) {
    const float scale = scales[c];
    const int32_t zero_point = zero_points[c];
    for (int64_t e = first; e < last; ++e) y[e] = round_to_quantized<Q>(static_cast<float>(x[e]) / scale, zero_point);
  });
}

template <class Q>
void dequantize_linear_ref(const Q* x, float* y, int64_t begin, int64_t end, const ChannelLayout& layout,
                           const float* scales, const int32_t* zero_points) {
  for_each_channel_run(layout, begin, end, [&](int64_t first, int64_t last, int64_t c) {
    const float scale = scales[c];
    const int64_t zero_point = zero_points[c];
    // int64: an int32 x minus its zero point may leave int32's range.
    for (int64_t e = first; e < last; ++e) y[e] = static_cast<float>(int64_t{x[e]} - zero_point) * scale;
  });
}

QuantParams dynamic_quant_params_uint8(const float* x, int64_t n) {
  float lo = 0.f, hi = 0.f;  // starting at 0 puts 0 inside the range; comparisons skip NaN
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  return uint8_params_for_range(lo, hi);
}

QuantParams uint8_params_for_range(float lo, float hi) {
  QuantParams params;
  if (hi == lo) return params;
  constexpr float kQMin = 0.f, kQMax = 255.f;
  params.scale = (hi - lo) / (kQMax - kQMin);
  const float zero_point = std::clamp(kQMin - lo / params.scale, kQMin, kQMax);
  params.zero_point = static_cast<int32_t>(std::nearbyint(zero_point));
  return params;
}

template <class TA, class TB>
void gemm_integer_ref(int64_t M, int64_t N, int64_t K, const TA* A, const int32_t* a_zero_points, const TB* B,
                      const int32_t* b_zero_points, int32_t* C) {
  // i-k-j order, as matmul_ref: the innermost loop walks a row of B and of C and vectorizes.
  for (int64_t i = 0; i < M; ++i) {
    int32_t* c = C + i * N;
    std::fill(c, c + N, 0);
    for (int64_t k = 0; k < K; ++k) {
      const int32_t a = int32_t{A[i * K + k]} - a_zero_points[i];
      const TB* b = B + k * N;
      for (int64_t j = 0; j < N; ++j) c[j] = wrapping_add(c[j], a * (int32_t{b[j]} - b_zero_points[j]));
    }
  }
}

template <class Q>
void requantize_ref(int64_t n, const int32_t* acc, int32_t bias, const float* multipliers, int64_t multiplier_step,
                    int32_t zero_point, Q* y) {
  for (int64_t j = 0; j < n; ++j) {
    const float value = static_cast<float>(int64_t{acc[j]} + bias);
    y[j] = round_to_quantized<Q>(value * multipliers[j * multiplier_step], zero_point);
  }
}

template void quantize_linear_ref(const float*, uint8_t*, int64_t, int64_t, const ChannelLayout&, const float*,
                                  const int32_t*);
template void quantize_linear_ref(const float*, int8_t*, int64_t, int64_t, const ChannelLayout&, const float*,
                                  const int32_t*);
template void quantize_linear_ref(const int32_t*, uint8_t*, int64_t, int64_t, const ChannelLayout&, const float*,
                                  const int32_t*);
template void quantize_linear_ref(const int32_t*, int8_t*, int64_t, int64_t, const ChannelLayout&, const float*,
                                  const int32_t*);
template void dequantize_linear_ref(const uint8_t*, float*, int64_t, int64_t, const ChannelLayout&, const float*,
                                    const int32_t*);
template void dequantize_linear_ref(const int8_t*, float*, int64_t, int64_t, const ChannelLayout&, const float*,
                                    const int32_t*);
template void dequantize_linear_ref(const int32_t*, float*, int64_t, int64_t, const ChannelLayout&, const float*,
                                    const int32_t*);
template void gemm_integer_ref(int64_t, int64_t, int64_t, const uint8_t*, const int32_t*, const uint8_t*,
                               const int32_t*, int32_t*);
template void gemm_integer_ref(int64_t, int64_t, int64_t, const uint8_t*, const int32_t*, const int8_t*,
                               const int32_t*, int32_t*);
template void gemm_integer_ref(int64_t, int64_t, int64_t, const int8_t*, const int32_t*, const uint8_t*,
                               const int32_t*, int32_t*);
template void gemm_integer_ref(int64_t, int64_t, int64_t, const int8_t*, const int32_t*, const int8_t*,
                               const int32_t*, int32_t*);
template void requantize_ref(int64_t, const int32_t*, int32_t, const float*, int64_t, int32_t, uint8_t*);
template void requantize_ref(int64_t, const int32_t*, int32_t, const float*, int64_t, int32_t, int8_t*);

}  // namespace kiln::kernels
