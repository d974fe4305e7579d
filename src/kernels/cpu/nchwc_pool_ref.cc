#include "kernels/cpu/nchwc_pool.h"
#include "kernels/cpu/pool_taps.h"

namespace kiln::kernels {
namespace {

template <class Taps>
void pool_rows(const Pool2d& p, int64_t block, const float* x, float* y, int64_t row_begin, int64_t row_end) {
  for (int64_t oy = row_begin; oy < row_end; ++oy)
    for (int64_t ox = 0; ox < p.out_w; ++ox) {
      const int64_t y0 = oy * p.stride_h - p.pad_top, x0 = ox * p.stride_w - p.pad_left;
      const TapRange rows = taps_inside(y0, p.kernel_h, p.dilation_h, p.in_h);
      const TapRange cols = taps_inside(x0, p.kernel_w, p.dilation_w, p.in_w);
      const int64_t padded = taps_inside_padding(y0, p.kernel_h, p.dilation_h, p.in_h, p.pad_bottom) *
                             taps_inside_padding(x0, p.kernel_w, p.dilation_w, p.in_w, p.pad_right);
      const float divisor = static_cast<float>(p.count_include_pad ? padded : rows.count() * cols.count());
      for (int64_t lane = 0; lane < block; ++lane) {
        float acc = Taps::kEmpty;
        for (int64_t ky = rows.begin; ky < rows.end; ++ky)
          for (int64_t kx = cols.begin; kx < cols.end; ++kx) {
            const float v = x[((y0 + ky * p.dilation_h) * p.in_w + x0 + kx * p.dilation_w) * block + lane];
            acc = ky == rows.begin && kx == cols.begin ? v : Taps::combine(acc, v);
          }
        const bool empty = rows.count() == 0 || cols.count() == 0;
        y[(oy * p.out_w + ox) * block + lane] = p.average && !empty ? acc / divisor : acc;
      }
    }
}

}  // namespace

void nchwc_pool_rows_ref(const Pool2d& pool, int64_t block, const float* x, float* y, int64_t row_begin,
                         int64_t row_end) {
  if (pool.average)
    pool_rows<SumTaps>(pool, block, x, y, row_begin, row_end);
  else
    pool_rows<MaxTaps>(pool, block, x, y, row_begin, row_end);
}

}  // namespace kiln::kernels
