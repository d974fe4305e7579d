// Transposes that move the innermost axis (K^T in attention, NCHW <-> NHWC): read element by
// element, every read of such a copy lands on a different cache line. This copies square tiles
// instead, so that a tile's reads and writes each stay within kTransposeTile cache lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu/vec_isa.h"
#include "kiln/tensor.h"

namespace kiln::kernels {

// Writes `src` (dense, shape `shape`) permuted by `perm` (output axis k is input axis perm[k]) to
// `dst` and returns true, or returns false without writing when the permutation keeps the
// innermost axis in place (each output row is then a contiguous source run, which strided_copy
// copies well) or the tensor is empty. element_size is 1, 2, 4 or 8 bytes. With a VecIsa (null at
// the Scalar level), tiles of 4-byte elements are transposed in vector registers.
bool transpose_blocked(void* dst, const void* src, size_t element_size, const Shape& shape,
                       const std::vector<int64_t>& perm, const VecIsa* isa, ThreadPool& pool);

}  // namespace kiln::kernels
