// Cumulative sum along one axis of data seen as [outer, axis_dim, inner].
#pragma once

#include <cstdint>

namespace kiln::kernels {

// exclusive: element i sums the elements before i (the first is 0); reverse: sums run from the end.
// Instantiated for float, double, int32_t, int64_t, uint32_t, uint64_t.
template <class T>
void compute_cumsum(const T* x, T* y, int64_t outer, int64_t axis_dim, int64_t inner, bool exclusive, bool reverse);

}  // namespace kiln::kernels
