// 2-D max and average pooling of NCHWc tensors (kernels/cpu/nchwc.h); a global pool is the window
// the size of the input. Each tap of a window is one pixel's `block` channels, contiguous, so the
// vector kernels combine whole vectors per tap (no gathers, no tails) and every lane runs the
// reference's scalar recipe: taps in row-major order, the same padding counts and empty-window
// values (pool_taps.h), hence the same results as the NCHW pools.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "kernels/cpu/vec_isa.h"

namespace kiln::kernels {

// Output rows [row_begin, row_end) of one channel block: x [in_h, in_w, block] -> y [out_h, out_w,
// block]. The vector kernels are compiled for their level's block only (nchwc_block), so `block`
// must be that one.
using NchwcPoolRowsFn = void (*)(const Pool2d& pool, int64_t block, const float* x, float* y, int64_t row_begin,
                                 int64_t row_end);

// The plain reference, any block: the Scalar level's kernel and the vector kernels' twin.
void nchwc_pool_rows_ref(const Pool2d& pool, int64_t block, const float* x, float* y, int64_t row_begin,
                         int64_t row_end);
NchwcPoolRowsFn nchwc_pool_rows_avx2();    // block 8
NchwcPoolRowsFn nchwc_pool_rows_avx512();  // block 16

// Pools `planes` channel blocks (N * ceil(C / block) of them) with the kernel of `level`, split
// over (plane, output row) across the pool.
void compute_nchwc_pool(const Pool2d& pool, int64_t planes, int64_t block, CpuLevel level, const float* x, float* y,
                        ThreadPool& threads);

}  // namespace kiln::kernels
