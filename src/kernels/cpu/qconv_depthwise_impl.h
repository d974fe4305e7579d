// The depthwise 8-bit convolution's loops (qconv_depthwise.h), included by each level's file and
// compiled with that level's instructions: plain loops over contiguous channels, which the compiler
// vectorizes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/cpu/qconv_depthwise.h"
#include "kernels/cpu/quant_ref.h"

namespace kiln::kernels::depthwise_impl {

// requantize_ref's value for each channel, then the clamp a fused activation adds, in a loop the
// compiler vectorizes: `biased` holds the sums plus their biases (in int32; the caller checks that
// none overflows) and `multipliers` one per channel; rounding to nearest even is
// (v + 1.5 * 2^23) - 1.5 * 2^23, exact below 2^22 and, above, only on values every 8-bit type
// saturates anyway.
// No contraction: an FMA would add the rounding constant to the unrounded product, and a product that
// rounds to exactly k + 0.5 would then round away from even where requantize_ref's does not.
template <class Q>
__attribute__((optimize("fp-contract=off"))) inline void requantize_channels(const int32_t* biased, const float* multipliers,
                                                                             int64_t channels, const Requantization& r, Q* y) {
  constexpr float kRound = 12582912.f;  // 1.5 * 2^23
  const float low = static_cast<float>(std::max<int32_t>(r.qmin, std::numeric_limits<Q>::lowest()));
  const float high = static_cast<float>(std::min<int32_t>(r.qmax, std::numeric_limits<Q>::max()));
  const float zero_point = static_cast<float>(r.zero_point);
  for (int64_t c = 0; c < channels; ++c) {
    const float scaled = static_cast<float>(biased[c]) * multipliers[c];
    const float rounded = (scaled + kRound) - kRound + zero_point;
    // NaN becomes 0 (requantize_ref's convert), then the clamp applies.
    const float value = rounded == rounded ? rounded : 0.f;
    y[c] = static_cast<Q>(static_cast<int32_t>(std::min(std::max(value, low), high)));
  }
}

// requantize_ref's arithmetic itself, for sums plus biases that may leave int32.
template <class Q>
inline void requantize_channels_wide(const int32_t* acc, int64_t channels, const Requantization& r, Q* y) {
  for (int64_t c = 0; c < channels; ++c) {
    Q value;
    requantize_ref(1, acc + c, r.bias ? r.bias[c] : 0, r.multipliers + c * r.multiplier_step, 0, r.zero_point, &value);
    const int32_t clamped = std::min(std::max(int32_t{value}, r.qmin), r.qmax);
    y[c] = static_cast<Q>(clamped);
  }
}

// Whether every sum of `taps` products of two 8-bit differences (each within +-255), plus its
// bias, stays within int32.
inline bool sums_fit_int32(const QDepthwiseArgs& a) {
  int64_t bias = 0;
  if (a.requantize.bias)
    for (int64_t c = 0; c < a.channels; ++c) bias = std::max<int64_t>(bias, std::abs(int64_t{a.requantize.bias[c]}));
  return a.kernel_h * a.kernel_w * 255 * 255 + bias < (int64_t{1} << 31);
}

// Output row by output row: the row's sums [out_w, C] stay in a per-thread buffer while every tap
// adds its contribution to all the row's pixels (each a run of C channels), then the row is
// requantized in one pass.
template <class T>
void rows_of(const QDepthwiseArgs& a, T* y, int64_t row_begin, int64_t row_end) {
  const bool narrow = sums_fit_int32(a);
  // Per channel: the bias (0 without one) and the multiplier, for requantize_channels' loop.
  thread_local std::vector<int32_t> bias;
  thread_local std::vector<float> multipliers;
  bias.assign(static_cast<size_t>(a.channels), 0);
  multipliers.resize(static_cast<size_t>(a.channels));
  for (int64_t c = 0; c < a.channels; ++c) {
    if (a.requantize.bias) bias[static_cast<size_t>(c)] = a.requantize.bias[c];
    if constexpr (!std::is_same_v<T, int32_t>)
      multipliers[static_cast<size_t>(c)] = a.requantize.multipliers[c * a.requantize.multiplier_step];
  }
  const int64_t C = a.channels, row_size = a.out_w * a.channels;
  thread_local std::vector<int32_t> buffer;
  if (static_cast<int64_t>(buffer.size()) < row_size) buffer.resize(static_cast<size_t>(row_size));
  int32_t* sums = buffer.data();
  const int32_t zero_point = a.x_zero_point;
  for (int64_t oy = row_begin; oy < row_end; ++oy) {
    std::fill(sums, sums + row_size, 0);
    for (int64_t ky = 0; ky < a.kernel_h; ++ky) {
      const int64_t iy = oy * a.stride_h - a.pad_top + ky * a.dilation_h;
      if (iy < 0 || iy >= a.height) continue;
      const uint8_t* image_row = a.image + iy * a.width * C;
      for (int64_t kx = 0; kx < a.kernel_w; ++kx) {
        const int32_t* w = a.weights + (ky * a.kernel_w + kx) * C;
        // The output columns whose tap kx falls inside the image: ix = ox * stride - pad + kx * dilation.
        const int64_t offset = kx * a.dilation_w - a.pad_left;
        int64_t ox_begin = 0, ox_end = a.out_w;
        while (ox_begin < ox_end && ox_begin * a.stride_w + offset < 0) ++ox_begin;
        while (ox_end > ox_begin && (ox_end - 1) * a.stride_w + offset >= a.width) --ox_end;
        for (int64_t ox = ox_begin; ox < ox_end; ++ox) {
          const uint8_t* pixel = image_row + (ox * a.stride_w + offset) * C;
          int32_t* sum = sums + ox * C;
          for (int64_t c = 0; c < C; ++c) sum[c] += (static_cast<int32_t>(pixel[c]) - zero_point) * w[c];
        }
      }
    }
    T* out = y + oy * row_size;
    if constexpr (std::is_same_v<T, int32_t>)
      std::copy(sums, sums + row_size, out);
    else
      for (int64_t ox = 0; ox < a.out_w; ++ox) {
        int32_t* pixel_sums = sums + ox * C;
        if (!narrow) {
          requantize_channels_wide(pixel_sums, C, a.requantize, out + ox * C);
          continue;
        }
        for (int64_t c = 0; c < C; ++c) pixel_sums[c] += bias[static_cast<size_t>(c)];
        requantize_channels(pixel_sums, multipliers.data(), C, a.requantize, out + ox * C);
      }
  }
}

inline void rows(const QDepthwiseArgs& a, int64_t row_begin, int64_t row_end) {
  std::visit([&](auto* y) { rows_of(a, y, row_begin, row_end); }, a.y);
}

}  // namespace kiln::kernels::depthwise_impl
