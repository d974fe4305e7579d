// Einsum by direct summation over a resolved label plan (the op parses the equation).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kiln::kernels {

// Labels are numbered with the output's labels first, in output order, then the contracted ones.
// label_strides[k][l] is operand k's element stride for label l: 0 where it lacks or broadcasts the
// label, the sum of its axes' strides where it repeats the label (which walks a diagonal). Each of
// the product of label_sizes[0 .. output_labels) outputs, in row-major order, is the sum over every
// value of the contracted labels of the product of the operands' elements. Instantiated for float,
// double, int32_t and int64_t.
template <class T>
void compute_einsum(const std::vector<const T*>& operands, const std::vector<std::vector<int64_t>>& label_strides,
                    const std::vector<int64_t>& label_sizes, size_t output_labels, T* out);

}  // namespace kiln::kernels
