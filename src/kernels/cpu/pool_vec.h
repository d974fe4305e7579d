// Vectorized 2-D max and average pooling of one NCHW plane (VecIsa::pool_2d). Compiled per
// instruction set by vec_isa_<level>.cc.
//
// Each output row is built kernel row by kernel row: for every ky of the window, one loop over the
// interior columns (those whose window lies inside the input row) combines that row's taps into
// the output, a strided vector map that the compiler vectorizes for strides 1 and 2 (the common
// ones) without gathers. Border columns are computed one by one. Either way the taps of a window
// are visited in the reference's row-major order, so max (including its NaN and tie behavior) and
// the average's sum are bit-identical to the reference.
//
// Internal linkage and builtins only, for the reason given in vec_math.h.
#pragma once

#include <cstdint>

#include "kernels/cpu/pool_taps.h"
#include "kernels/cpu/vec_isa.h"

namespace kiln::kernels {
namespace {

// The taps of one kernel row for a run of interior output columns: output i reads
// src[i * stride + kx * dilation] for kx < taps.
struct TapRow {
  int64_t stride, taps, dilation;
};

// y[i] (=|combine=) the row's taps of output i, combined in order. Stride and tap count are
// template constants (0: read at run time, for one tap only), with dilation 1 when there are
// several taps, so that the common windows keep all their taps in registers and the loads
// vectorize as contiguous loads and shuffles.
template <class Taps, int64_t kStride, int64_t kTaps>
void combine_tap_row(float* y, const float* src, int64_t n, int64_t runtime_stride, bool first) {
  const int64_t stride = kStride > 0 ? kStride : runtime_stride;
  // Unrolled by hand: the compiler does not vectorize a loop around even a one-trip inner loop.
  const auto rest_of_row = [](float acc, const float* s) {
    if constexpr (kTaps >= 2) acc = Taps::combine(acc, s[1]);
    if constexpr (kTaps >= 3) acc = Taps::combine(acc, s[2]);
    return acc;
  };
  static_assert(kTaps >= 1 && kTaps <= 3);
  // Two loops rather than a select on `first`, which would keep the compiler from vectorizing.
  if (first)
    for (int64_t i = 0; i < n; ++i) y[i] = rest_of_row(src[i * stride], src + i * stride);
  else
    for (int64_t i = 0; i < n; ++i) y[i] = rest_of_row(Taps::combine(y[i], src[i * stride]), src + i * stride);
}

template <class Taps, int64_t kStride>
void combine_tap_row_any_width(float* y, const float* src, int64_t n, const TapRow& row, bool first) {
  if (row.dilation == 1 && row.taps == 2) return combine_tap_row<Taps, kStride, 2>(y, src, n, row.stride, first);
  if (row.dilation == 1 && row.taps == 3) return combine_tap_row<Taps, kStride, 3>(y, src, n, row.stride, first);
  // Other windows: one vectorizable pass per tap instead of a run-time inner loop.
  for (int64_t kx = 0; kx < row.taps; ++kx)
    combine_tap_row<Taps, kStride, 1>(y, src + kx * row.dilation, n, row.stride, first && kx == 0);
}

template <class Taps>
void combine_tap_row_any(float* y, const float* src, int64_t n, const TapRow& row, bool first) {
  if (row.stride == 1) return combine_tap_row_any_width<Taps, 1>(y, src, n, row, first);
  if (row.stride == 2) return combine_tap_row_any_width<Taps, 2>(y, src, n, row, first);
  combine_tap_row_any_width<Taps, 0>(y, src, n, row, first);
}

template <class Taps>
void pool_2d_plane(const Pool2d& p, const float* x, float* y) {
  // Interior columns [lo, hi): every tap column in [0, in_w).
  const int64_t span = (p.kernel_w - 1) * p.dilation_w;
  const int64_t lo = min_i64((p.pad_left + p.stride_w - 1) / p.stride_w, p.out_w);
  const int64_t last_start = p.in_w - 1 - span + p.pad_left;
  int64_t hi = last_start < 0 ? 0 : min_i64(last_start / p.stride_w + 1, p.out_w);
  hi = hi < lo ? lo : hi;
  const TapRow tap_row{p.stride_w, p.kernel_w, p.dilation_w};

  for (int64_t oy = 0; oy < p.out_h; ++oy) {
    float* yr = y + oy * p.out_w;
    const int64_t y0 = oy * p.stride_h - p.pad_top;
    const TapRange rows = taps_inside(y0, p.kernel_h, p.dilation_h, p.in_h);
    if (rows.count() == 0) {
      for (int64_t ox = 0; ox < p.out_w; ++ox) yr[ox] = Taps::kEmpty;
      continue;
    }
    const int64_t padded_rows = taps_inside_padding(y0, p.kernel_h, p.dilation_h, p.in_h, p.pad_bottom);

    for (int64_t ky = rows.begin; ky < rows.end && lo < hi; ++ky) {
      const float* xr = x + (y0 + ky * p.dilation_h) * p.in_w + lo * p.stride_w - p.pad_left;
      combine_tap_row_any<Taps>(yr + lo, xr, hi - lo, tap_row, ky == rows.begin);
    }
    if (p.average) {
      const float divisor = static_cast<float>((p.count_include_pad ? padded_rows : rows.count()) * p.kernel_w);
      for (int64_t ox = lo; ox < hi; ++ox) yr[ox] = yr[ox] / divisor;
    }

    const auto border_column = [&](int64_t ox) {
      const int64_t x0 = ox * p.stride_w - p.pad_left;
      const TapRange cols = taps_inside(x0, p.kernel_w, p.dilation_w, p.in_w);
      if (cols.count() == 0) {
        yr[ox] = Taps::kEmpty;
        return;
      }
      float acc = 0.f;
      for (int64_t ky = rows.begin; ky < rows.end; ++ky)
        for (int64_t kx = cols.begin; kx < cols.end; ++kx) {
          const float v = x[(y0 + ky * p.dilation_h) * p.in_w + x0 + kx * p.dilation_w];
          acc = ky == rows.begin && kx == cols.begin ? v : Taps::combine(acc, v);
        }
      if (p.average) {
        const int64_t padded_cols = taps_inside_padding(x0, p.kernel_w, p.dilation_w, p.in_w, p.pad_right);
        const int64_t divisor = p.count_include_pad ? padded_rows * padded_cols : rows.count() * cols.count();
        acc = acc / static_cast<float>(divisor);
      }
      yr[ox] = acc;
    };
    for (int64_t ox = 0; ox < lo; ++ox) border_column(ox);
    for (int64_t ox = hi; ox < p.out_w; ++ox) border_column(ox);
  }
}

[[maybe_unused]] void vec_pool_2d(const Pool2d& p, const float* x, float* y) {
  if (p.average)
    pool_2d_plane<SumTaps>(p, x, y);
  else
    pool_2d_plane<MaxTaps>(p, x, y);
}

}  // namespace
}  // namespace kiln::kernels
