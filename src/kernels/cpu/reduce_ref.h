// Reductions over a set of axes (ReduceSum, ReduceMean, ... ) and arg-reductions along one axis
// (ArgMax, ArgMin). Inputs are dense row-major; callers pass validated, normalized axes.
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "kiln/tensor.h"

namespace kiln::kernels {

enum class ReduceKind { Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare };

// Reduces `in` (shape `in_shape`) over `axes` (sorted, distinct, in [0, rank)) into `out`, which holds
// the product of the kept dims in row-major order. An empty `axes` reduces each element on its own
// (the element-wise part of the reduction still applies: SumSquare squares, L1 takes |x|). A
// zero-size reduced axis gives each output the reduction of the empty set: 0 for sums, 1 for Prod,
// -inf / the lowest value for Max, +inf / the highest for Min, -inf for LogSum and LogSumExp, NaN
// for a float Mean. Instantiated for float, double, int32_t and int64_t.
template <class T>
void compute_reduce(ReduceKind kind, const T* in, const Shape& in_shape, const std::vector<int64_t>& axes, T* out,
                    ThreadPool& pool);

// For each of outer * inner positions, writes the index along the middle axis (of size n >= 1) of the
// largest (`find_max`) or smallest element: the first such index, or the last with `select_last`.
// NaN counts as the extreme value, as in numpy. Instantiated for float, double, int32_t and int64_t.
template <class T>
void compute_arg_reduce(const T* in, int64_t outer, int64_t n, int64_t inner, bool find_max, bool select_last,
                        int64_t* out);

}  // namespace kiln::kernels
