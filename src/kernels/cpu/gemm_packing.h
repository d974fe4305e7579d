// Packing of SGEMM operands into micro-kernel panels, compiled by each sgemm_<level>.cc with its
// instruction set (packing is pure data movement, and wide vectors move it faster). Internal
// linkage for the reason given in tile_epilogue.h.
//
// Panel formats: an A panel holds mr rows, dst[k * mr + r]; a B panel holds nr columns,
// dst[k * nr + j], zero past the matrix's last column. Consecutive B panels of a block are kc * nr
// floats apart.
#pragma once

#include <algorithm>
#include <cstring>

#include "kernels/cpu/sgemm.h"
#ifdef __AVX2__
#include "kernels/cpu/transpose_vec.h"
#endif

namespace kiln::kernels {
namespace {

void copy_floats(const float* src, int64_t n, float* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}

// dst[c * dst_ld + r] = src[r * src_ld + c]: in vector registers where the instruction set has
// the shuffles (a scalar copy scatters every element, the bulk of packing a strided operand).
void transpose_floats(const float* src, int64_t src_ld, float* dst, int64_t dst_ld, int64_t rows, int64_t cols) {
#ifdef __AVX2__
  vec_transpose_32(reinterpret_cast<const uint32_t*>(src), src_ld, reinterpret_cast<uint32_t*>(dst), dst_ld, rows, cols);
#else
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) dst[c * dst_ld + r] = src[r * src_ld + c];
#endif
}

[[maybe_unused]] void pack_a_panel(const MatrixView& a, int64_t i0, int64_t rows, int64_t k0, int64_t kc, int64_t mr,
                                   float* dst) {
  if (a.transposed) {
    for (int64_t k = 0; k < kc; ++k) copy_floats(a.data + (k0 + k) * a.ld + i0, rows, dst + k * mr);
  } else {
    transpose_floats(a.data + i0 * a.ld + k0, a.ld, dst, mr, rows, kc);
  }
  for (int64_t k = 0; k < kc; ++k) std::fill(dst + k * mr + rows, dst + (k + 1) * mr, 0.f);
}

// Columns [j0, j0 + cols) of B's rows [k0, k0 + kc) into ceil(cols / nr) consecutive panels.
[[maybe_unused]] void pack_b_panels(const MatrixView& b, int64_t k0, int64_t kc, int64_t j0, int64_t cols, int64_t nr,
                                    float* dst) {
  const int64_t panel_size = kc * nr;
  if (b.transposed) {
    for (int64_t p = 0; p * nr < cols; ++p) {
      const int64_t n = std::min(nr, cols - p * nr);
      float* panel = dst + p * panel_size;
      transpose_floats(b.data + (j0 + p * nr) * b.ld + k0, b.ld, panel, nr, n, kc);
      for (int64_t k = 0; k < kc; ++k) std::fill(panel + k * nr + n, panel + (k + 1) * nr, 0.f);
    }
    return;
  }
  for (int64_t k = 0; k < kc; ++k) {
    const float* src = b.data + (k0 + k) * b.ld + j0;
    for (int64_t p = 0; p * nr < cols; ++p) {
      const int64_t n = std::min(nr, cols - p * nr);
      float* row = dst + p * panel_size + k * nr;
      copy_floats(src + p * nr, n, row);
      std::fill(row + n, row + nr, 0.f);
    }
  }
}

// Output positions t in [0, run) read input column first + t * step; [lo, hi) of them fall
// inside [0, width). Unit steps, the common case, need no division.
void columns_inside(int64_t first, int64_t step, int64_t width, int64_t run, int64_t& lo, int64_t& hi) {
  if (step == 1) {
    lo = std::min(run, std::max<int64_t>(0, -first));
    hi = std::max(lo, std::min(run, width - first));
    return;
  }
  lo = std::min(run, first >= 0 ? 0 : (-first + step - 1) / step);
  hi = std::max(lo, std::min(run, first >= width ? 0 : (width - first + step - 1) / step));
}

// The same panels of the im2col matrix, read straight from the image. Each output row segment
// is copied as one run (split where a panel ends), padding written as zeros.
[[maybe_unused]] void pack_im2col_panels(const Im2colView& v, int64_t k0, int64_t kc, int64_t j0, int64_t cols,
                                         int64_t nr, float* dst) {
  const int64_t taps = v.kernel_h * v.kernel_w, panel_size = kc * nr;
  const int64_t first_oy = j0 / v.out_w, first_ox = j0 % v.out_w;
  for (int64_t k = 0; k < kc; ++k) {
    const int64_t row = k0 + k, channel = row / taps, tap = row % taps;
    const int64_t ky = tap / v.kernel_w, kx = tap % v.kernel_w;
    const float* plane = v.image + channel * v.height * v.width;
    int64_t oy = first_oy, ox = first_ox;
    float* panel_row = dst + k * nr;
    int64_t col = 0;  // column within the current panel
    for (int64_t left = cols; left > 0;) {
      // The rest of output row oy, up to the panel's end.
      const int64_t run = std::min({left, v.out_w - ox, nr - col});
      float* out = panel_row + col;
      const int64_t iy = oy * v.stride_h - v.pad_top + ky * v.dilation_h;
      if (iy < 0 || iy >= v.height) {
        std::fill(out, out + run, 0.f);
      } else {
        const float* src = plane + iy * v.width;
        const int64_t first = ox * v.stride_w - v.pad_left + kx * v.dilation_w, step = v.stride_w;
        int64_t lo, hi;
        columns_inside(first, step, v.width, run, lo, hi);
        std::fill(out, out + lo, 0.f);
        // Constant steps let the compiler vectorize the gather (stride 2: a load and a shuffle).
        if (step == 1)
          copy_floats(src + first + lo, hi - lo, out + lo);
        else if (step == 2)
          for (int64_t t = lo; t < hi; ++t) out[t] = src[first + 2 * t];
        else
          for (int64_t t = lo; t < hi; ++t) out[t] = src[first + t * step];
        std::fill(out + hi, out + run, 0.f);
      }
      left -= run;
      ox += run;
      if (ox == v.out_w) {
        ox = 0;
        ++oy;
      }
      col += run;
      if (col == nr) {
        col = 0;
        panel_row += panel_size;
      }
    }
    std::fill(panel_row + col, panel_row + (col ? nr : 0), 0.f);
  }
}

}  // namespace
}  // namespace kiln::kernels
