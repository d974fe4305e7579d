// The depthwise plane kernel, compiled by each depthwise_conv_<level>.cc with its instruction set.
// Internal linkage for the same reason as tile_epilogue.h: per-ISA copies must never be merged.
#pragma once

#include <algorithm>

#include "kernels/cpu/depthwise_conv.h"
#include "kernels/cpu/tile_epilogue.h"

namespace kiln::kernels {
namespace {

// Output columns [lo, hi) read input column ox * stride + first inside [0, width).
void valid_columns(int64_t first, int64_t stride, int64_t width, int64_t out_w, int64_t& lo, int64_t& hi) {
  lo = first >= 0 ? 0 : std::min(out_w, (-first + stride - 1) / stride);
  hi = first >= width ? lo : std::max(lo, std::min(out_w, (width - first + stride - 1) / stride));
}

template <int64_t Stride>
void accumulate_tap(const float* in_row, float weight, int64_t first, int64_t stride, int64_t lo, int64_t hi,
                    float* out_row) {
  const int64_t step = Stride > 0 ? Stride : stride;
  for (int64_t ox = lo; ox < hi; ++ox) out_row[ox] += weight * in_row[ox * step + first];
}

// One output row of a 3x3, dilation-1 filter: all nine taps per output in registers, one store.
// rows[ky] is input row oy * stride - pad_top + ky, or any valid row when that one is padding
// (its weights are then zero), so the interior loop has no branches.
// out_row never overlaps the input rows; __restrict lets the compiler vectorize without checking.
template <int64_t Stride>
void depthwise_row_3x3(const float* const rows[3], const float weights[9], float bias, int64_t width,
                       int64_t pad_left, int64_t out_w, float* __restrict out_row) {
  auto tap_sum = [&](int64_t ox, bool check) {
    float acc = bias;
    for (int ky = 0; ky < 3; ++ky)
      for (int kx = 0; kx < 3; ++kx) {
        const int64_t ix = ox * Stride - pad_left + kx;
        if (!check || (ix >= 0 && ix < width)) acc += weights[ky * 3 + kx] * rows[ky][ix];
      }
    return acc;
  };
  // Interior columns read ix in [0, width) for every tap.
  const int64_t lo = std::min(out_w, (pad_left + Stride - 1) / Stride);
  const int64_t last_start = width - 3 + pad_left;  // the largest ox * Stride whose taps fit
  const int64_t hi = last_start < 0 ? lo : std::max(lo, std::min(out_w, last_start / Stride + 1));
  for (int64_t ox = 0; ox < lo; ++ox) out_row[ox] = tap_sum(ox, true);
  const float* __restrict r0 = rows[0] - pad_left;
  const float* __restrict r1 = rows[1] - pad_left;
  const float* __restrict r2 = rows[2] - pad_left;
  const float w0 = weights[0], w1 = weights[1], w2 = weights[2], w3 = weights[3], w4 = weights[4], w5 = weights[5],
              w6 = weights[6], w7 = weights[7], w8 = weights[8];
  for (int64_t ox = lo; ox < hi; ++ox) {
    const int64_t x = ox * Stride;
    out_row[ox] = bias + w0 * r0[x] + w1 * r0[x + 1] + w2 * r0[x + 2] + w3 * r1[x] + w4 * r1[x + 1] + w5 * r1[x + 2] +
                  w6 * r2[x] + w7 * r2[x + 1] + w8 * r2[x + 2];
  }
  for (int64_t ox = hi; ox < out_w; ++ox) out_row[ox] = tap_sum(ox, true);
}

// The epilogue runs on each row right after it is computed, while it is in L1.
template <int64_t Stride>
void depthwise_plane_3x3(const float* in, const float* filter, float bias, const float* residual, float* out,
                         const DepthwiseGeometry& g, const Activation& activation) {
  for (int64_t oy = 0; oy < g.out_h; ++oy) {
    const float* rows[3];
    float weights[9];
    for (int ky = 0; ky < 3; ++ky) {
      const int64_t iy = oy * g.stride_h - g.pad_top + ky;
      const bool inside = iy >= 0 && iy < g.height;
      rows[ky] = in + (inside ? iy : 0) * g.width;
      for (int kx = 0; kx < 3; ++kx) weights[ky * 3 + kx] = inside ? filter[ky * 3 + kx] : 0.f;
    }
    float* out_row = out + oy * g.out_w;
    depthwise_row_3x3<Stride>(rows, weights, bias, g.width, g.pad_left, g.out_w, out_row);
    const TileEpilogue epilogue{nullptr, nullptr, residual ? residual + oy * g.out_w : nullptr, g.out_w, activation};
    apply_tile_epilogue(out_row, g.out_w, 1, g.out_w, epilogue);
  }
}

[[maybe_unused]] void depthwise_plane(const float* in, const float* filter, float bias, const float* residual,
                                      float* out, const DepthwiseGeometry& g, const Activation& activation) {
  const bool unit_dilation_3x3 = g.kernel_h == 3 && g.kernel_w == 3 && g.dilation_h == 1 && g.dilation_w == 1;
  if (unit_dilation_3x3 && (g.stride_w == 1 || g.stride_w == 2)) {
    if (g.stride_w == 1)
      depthwise_plane_3x3<1>(in, filter, bias, residual, out, g, activation);
    else
      depthwise_plane_3x3<2>(in, filter, bias, residual, out, g, activation);
    return;
  }
  for (int64_t oy = 0; oy < g.out_h; ++oy) {
    float* out_row = out + oy * g.out_w;
    std::fill(out_row, out_row + g.out_w, bias);
    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
      const int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
      if (iy < 0 || iy >= g.height) continue;
      const float* in_row = in + iy * g.width;
      for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
        const int64_t first = kx * g.dilation_w - g.pad_left;
        int64_t lo, hi;
        valid_columns(first, g.stride_w, g.width, g.out_w, lo, hi);
        const float weight = filter[ky * g.kernel_w + kx];
        // Unit and double strides get their own loops so the compiler sees constant strides.
        if (g.stride_w == 1)
          accumulate_tap<1>(in_row, weight, first, 1, lo, hi, out_row);
        else if (g.stride_w == 2)
          accumulate_tap<2>(in_row, weight, first, 2, lo, hi, out_row);
        else
          accumulate_tap<0>(in_row, weight, first, g.stride_w, lo, hi, out_row);
      }
    }
  }
  const TileEpilogue epilogue{nullptr, nullptr, residual, g.out_w, activation};
  apply_tile_epilogue(out, g.out_w, g.out_h, g.out_w, epilogue);
}

}  // namespace
}  // namespace kiln::kernels
