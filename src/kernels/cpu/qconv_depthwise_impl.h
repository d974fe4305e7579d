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

inline void rows(const QDepthwiseArgs& a, int64_t row_begin, int64_t row_end) {
  const int64_t C = a.channels;
  thread_local std::vector<int32_t> acc;
  acc.resize(static_cast<size_t>(C));
  for (int64_t oy = row_begin; oy < row_end; ++oy)
    for (int64_t ox = 0; ox < a.out_w; ++ox) {
      int32_t* sums = acc.data();
      std::fill(sums, sums + C, 0);
      for (int64_t ky = 0; ky < a.kernel_h; ++ky) {
        const int64_t iy = oy * a.stride_h - a.pad_top + ky * a.dilation_h;
        if (iy < 0 || iy >= a.height) continue;
        for (int64_t kx = 0; kx < a.kernel_w; ++kx) {
          const int64_t ix = ox * a.stride_w - a.pad_left + kx * a.dilation_w;
          if (ix < 0 || ix >= a.width) continue;
          const uint8_t* pixel = a.image + (iy * a.width + ix) * C;
          const int32_t* w = a.weights + (ky * a.kernel_w + kx) * C;
          const int32_t zero_point = a.x_zero_point;
          for (int64_t c = 0; c < C; ++c) sums[c] += (static_cast<int32_t>(pixel[c]) - zero_point) * w[c];
        }
      }
      const int64_t offset = (oy * a.out_w + ox) * C;
      std::visit(
          [&](auto* y) {
            using T = std::remove_pointer_t<decltype(y)>;
            if constexpr (std::is_same_v<T, int32_t>)
              std::copy(sums, sums + C, y + offset);
            else
              requantize_channels(sums, C, a.requantize, y + offset);
          },
          a.y);
    }
}

}  // namespace kiln::kernels::depthwise_impl
