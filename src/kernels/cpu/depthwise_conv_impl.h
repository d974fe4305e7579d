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

[[maybe_unused]] void depthwise_plane(const float* in, const float* filter, float bias, const float* residual,
                                      float* out, const DepthwiseGeometry& g, const Activation& activation) {
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
