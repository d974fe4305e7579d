// The depthwise 8-bit convolution's loops (qconv_depthwise.h), included by each level's file and
// compiled with that level's instructions: plain loops over contiguous channels, which the compiler
// vectorizes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/cpu/qconv_depthwise.h"

namespace kiln::kernels::depthwise_impl {

// requantize_ref's value for each channel, then the clamp a fused activation adds.
template <class Q>
inline void requantize_channels(const int32_t* acc, int64_t channels, const Requantization& r, Q* y) {
  const float low = static_cast<float>(std::max<int32_t>(r.qmin, std::numeric_limits<Q>::lowest()));
  const float high = static_cast<float>(std::min<int32_t>(r.qmax, std::numeric_limits<Q>::max()));
  const float zero_point = static_cast<float>(r.zero_point);
  for (int64_t c = 0; c < channels; ++c) {
    const int64_t sum = int64_t{acc[c]} + (r.bias ? r.bias[c] : 0);
    const float scaled = std::nearbyint(static_cast<float>(sum) * r.multipliers[c * r.multiplier_step]) + zero_point;
    // NaN becomes 0 (requantize_ref's convert), then the clamp applies.
    const float value = scaled == scaled ? scaled : 0.f;
    y[c] = static_cast<Q>(std::min(std::max(value, low), high));
  }
}

// Output row by output row: the row's sums [out_w, C] stay in a per-thread buffer while every tap
// adds its contribution to all the row's pixels (each a run of C channels), then the row is
// requantized in one pass.
template <class T>
void rows_of(const QDepthwiseArgs& a, T* y, int64_t row_begin, int64_t row_end) {
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
      for (int64_t ox = 0; ox < a.out_w; ++ox) requantize_channels(sums + ox * C, C, a.requantize, out + ox * C);
  }
}

inline void rows(const QDepthwiseArgs& a, int64_t row_begin, int64_t row_end) {
  std::visit([&](auto* y) { rows_of(a, y, row_begin, row_end); }, a.y);
}

}  // namespace kiln::kernels::depthwise_impl
