#include "kernels/cpu/nchwc_pool.h"

#include <algorithm>

#include "kernels/cpu/elementwise.h"

namespace kiln::kernels {
namespace {

NchwcPoolRowsFn nchwc_pool_rows_kernel(CpuLevel level) {
  switch (level) {
    case CpuLevel::Avx512: return nchwc_pool_rows_avx512();
    case CpuLevel::Avx2: return nchwc_pool_rows_avx2();
    case CpuLevel::Scalar: break;
  }
  return &nchwc_pool_rows_ref;
}

}  // namespace

void compute_nchwc_pool(const Pool2d& pool, int64_t planes, int64_t block, CpuLevel level, const float* x, float* y,
                        ThreadPool& threads) {
  const NchwcPoolRowsFn rows_fn = nchwc_pool_rows_kernel(level);
  const int64_t in_plane = pool.in_h * pool.in_w * block, out_plane = pool.out_h * pool.out_w * block;
  const int64_t row_work = std::max<int64_t>(1, pool.out_w * block * pool.kernel_h * pool.kernel_w);
  threads.parallel_for(
      planes * pool.out_h,
      [&](int64_t begin, int64_t end) {
        // A chunk may span planes: run it as one row range per plane.
        for (int64_t item = begin; item < end;) {
          const int64_t plane = item / pool.out_h, row = item % pool.out_h;
          const int64_t row_end = std::min(pool.out_h, row + end - item);
          rows_fn(pool, block, x + plane * in_plane, y + plane * out_plane, row, row_end);
          item += row_end - row;
        }
      },
      std::max<int64_t>(1, kElementwiseGrain / row_work));
}

}  // namespace kiln::kernels
