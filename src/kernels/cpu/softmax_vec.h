// Vectorized Softmax and LogSoftmax along contiguous rows (VecIsa::softmax_rows): the reference
// algorithm (subtract the row maximum, exponentiate, normalize) with vec_exp and lane-parallel
// reductions. Compiled per instruction set by vec_isa_<level>.cc.
//
// Internal linkage and builtins only, for the reason given in vec_math.h.
#pragma once

#include <cstdint>

#include "kernels/cpu/vec_math.h"
#include "kernels/cpu/vec_reduce.h"

namespace kiln::kernels {
namespace {

[[maybe_unused]] void vec_softmax_rows(const float* x, float* y, int64_t rows, int64_t n, bool log) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    const float max = vec_max(xr, n);
    // Exponentials go through y (a row fits in L1) so that each loop is a plain vector map.
    for (int64_t i = 0; i < n; ++i) yr[i] = vec_exp(xr[i] - max);
    const float sum = vec_sum(yr, n);
    if (log) {
      // log softmax = x - max - log(sum): never the log of an underflowed exponential.
      const float shift = max + __builtin_logf(sum);
      for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] - shift;
    } else {
      const float inverse = 1.f / sum;
      for (int64_t i = 0; i < n; ++i) yr[i] *= inverse;
    }
  }
}

}  // namespace
}  // namespace kiln::kernels
