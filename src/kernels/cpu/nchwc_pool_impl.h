// The vector NCHWc pooling kernel (NchwcPoolRowsFn), compiled by nchwc_pool_<level>.cc for that
// level's block. A window's accumulator is one pixel of kBlock lanes, a fixed-size array the
// compiler keeps in one register; each tap is one contiguous vector load combined into it.
//
// Internal linkage and builtins only, for the reason given in vec_math.h.
#pragma once

#include "kernels/cpu/nchwc_pool.h"
#include "kernels/cpu/pool_taps.h"

namespace kiln::kernels {
namespace {

template <class Taps, int64_t kBlock>
void nchwc_pool_rows_vec(const Pool2d& p, const float* x, float* y, int64_t row_begin, int64_t row_end) {
  for (int64_t oy = row_begin; oy < row_end; ++oy) {
    const int64_t y0 = oy * p.stride_h - p.pad_top;
    const TapRange rows = taps_inside(y0, p.kernel_h, p.dilation_h, p.in_h);
    const int64_t padded_rows = taps_inside_padding(y0, p.kernel_h, p.dilation_h, p.in_h, p.pad_bottom);
    for (int64_t ox = 0; ox < p.out_w; ++ox) {
      const int64_t x0 = ox * p.stride_w - p.pad_left;
      const TapRange cols = taps_inside(x0, p.kernel_w, p.dilation_w, p.in_w);
      float* out = y + (oy * p.out_w + ox) * kBlock;
      if (rows.count() == 0 || cols.count() == 0) {
        for (int64_t l = 0; l < kBlock; ++l) out[l] = Taps::kEmpty;
        continue;
      }
      // The first tap starts the accumulator, as in the reference; the loops then skip it.
      const float* first = x + ((y0 + rows.begin * p.dilation_h) * p.in_w + x0 + cols.begin * p.dilation_w) * kBlock;
      float acc[kBlock];
      for (int64_t l = 0; l < kBlock; ++l) acc[l] = first[l];
      for (int64_t ky = rows.begin; ky < rows.end; ++ky) {
        const float* row = x + ((y0 + ky * p.dilation_h) * p.in_w + x0) * kBlock;
        for (int64_t kx = ky == rows.begin ? cols.begin + 1 : cols.begin; kx < cols.end; ++kx) {
          const float* tap = row + kx * p.dilation_w * kBlock;
          for (int64_t l = 0; l < kBlock; ++l) acc[l] = Taps::combine(acc[l], tap[l]);
        }
      }
      if (p.average) {
        const int64_t padded = padded_rows * taps_inside_padding(x0, p.kernel_w, p.dilation_w, p.in_w, p.pad_right);
        const float divisor = static_cast<float>(p.count_include_pad ? padded : rows.count() * cols.count());
        for (int64_t l = 0; l < kBlock; ++l) out[l] = acc[l] / divisor;
      } else {
        for (int64_t l = 0; l < kBlock; ++l) out[l] = acc[l];
      }
    }
  }
}

// The NchwcPoolRowsFn for kBlock; `block` is kBlock by the dispatch in nchwc_pool.cc.
template <int64_t kBlock>
void nchwc_pool_rows(const Pool2d& pool, int64_t /*block*/, const float* x, float* y, int64_t row_begin,
                     int64_t row_end) {
  if (pool.average)
    nchwc_pool_rows_vec<SumTaps, kBlock>(pool, x, y, row_begin, row_end);
  else
    nchwc_pool_rows_vec<MaxTaps, kBlock>(pool, x, y, row_begin, row_end);
}

}  // namespace
}  // namespace kiln::kernels
