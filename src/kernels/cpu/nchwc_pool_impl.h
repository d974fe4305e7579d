// The vector NCHWc pooling kernel (NchwcPoolRowsFn), compiled by nchwc_pool_<level>.cc for that
// level's block. A window's accumulator is one pixel of kBlock lanes held in one register (a GCC
// vector type: as a plain array the compiler kept 16 scalars); each tap is one contiguous vector
// load combined into it.
//
// Internal linkage and builtins only, for the reason given in vec_math.h.
#pragma once

#include "kernels/cpu/nchwc_pool.h"
#include "kernels/cpu/pool_taps.h"

namespace kiln::kernels {
namespace {

// One pixel's lanes as a GCC vector. (An alias template with a dependent vector_size silently
// drops the attribute in GCC 12, hence one typedef per block.)
typedef float Pixel8 __attribute__((vector_size(8 * sizeof(float))));
typedef float Pixel16 __attribute__((vector_size(16 * sizeof(float))));
template <int64_t kBlock>
struct PixelOf;
template <>
struct PixelOf<8> {
  using type = Pixel8;
};
template <>
struct PixelOf<16> {
  using type = Pixel16;
};

template <class Taps, int64_t kBlock>
void nchwc_pool_rows_vec(const Pool2d& p, const float* x, float* y, int64_t row_begin, int64_t row_end) {
  using Pixel = typename PixelOf<kBlock>::type;
  static_assert(sizeof(Pixel) == kBlock * sizeof(float));
  auto load_pixel = [](const float* src) {
    Pixel v;
    __builtin_memcpy(&v, src, sizeof v);
    return v;
  };
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
      Pixel acc = load_pixel(first);
      for (int64_t ky = rows.begin; ky < rows.end; ++ky) {
        const float* row = x + ((y0 + ky * p.dilation_h) * p.in_w + x0) * kBlock;
        for (int64_t kx = ky == rows.begin ? cols.begin + 1 : cols.begin; kx < cols.end; ++kx)
          acc = Taps::combine(acc, load_pixel(row + kx * p.dilation_w * kBlock));
      }
      if (p.average) {
        const int64_t padded = padded_rows * taps_inside_padding(x0, p.kernel_w, p.dilation_w, p.in_w, p.pad_right);
        acc /= static_cast<float>(p.count_include_pad ? padded : rows.count() * cols.count());
      }
      __builtin_memcpy(out, &acc, sizeof acc);
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
