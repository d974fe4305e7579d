// TopK along one axis: the k largest (or smallest) elements and their indices.
#pragma once

#include <cstdint>

namespace kiln::kernels {

// For each of outer * inner columns of `in` (viewed as [outer, n, inner]), writes the k (<= n)
// largest (`largest`) or smallest elements in rank order to `values`, and their positions along the
// middle axis to `indices`, both viewed as [outer, k, inner]. Equal values rank by lower index, as
// ONNX specifies; NaN ranks above every number, as in numpy's sort. Instantiated for float, double,
// int32_t and int64_t.
template <class T>
void compute_topk(const T* in, int64_t outer, int64_t n, int64_t inner, int64_t k, bool largest, T* values,
                  int64_t* indices);

}  // namespace kiln::kernels
