// Gather-like ops copy blocks of elements from computed source offsets; scatter-like ops combine
// blocks of updates into computed destination offsets. The offset lists are all that tells Gather,
// GatherElements and GatherND (and ScatterElements, ScatterND) apart, so each has one offset
// function and they share the block movers. Offsets count elements of the flat data tensor.
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "kiln/tensor.h"

namespace kiln::kernels {

// Maps an index along an axis of size `dim` into [0, dim) (negative counts from the end);
// throws InvalidArgument when it is out of range.
int64_t checked_index(int64_t index, int64_t dim);

// Gather on data seen as [outer, axis_dim, inner]: block (o, k) starts at (o * axis_dim + indices[k]) * inner.
std::vector<int64_t> gather_offsets(int64_t outer, int64_t axis_dim, int64_t inner,
                                    const std::vector<int64_t>& indices);

// GatherElements / ScatterElements: for every element of `indices` (shape index_shape, same rank as
// data, no dim larger than data's), the offset of its coordinates with the one along `axis`
// replaced by the index.
std::vector<int64_t> element_offsets(const Shape& data_shape, const Shape& index_shape,
                                     const std::vector<int64_t>& indices, size_t axis);

// GatherND / ScatterND: for each index tuple (the last dim of index_shape, q entries) the offset of
// the slice data[batch..., tuple...], where the first batch_dims dims of data and indices are shared.
std::vector<int64_t> nd_offsets(const Shape& data_shape, const Shape& index_shape, const std::vector<int64_t>& indices,
                                int64_t batch_dims);

// dst block i (block elements each) = src[offsets[i], offsets[i] + block).
void gather_blocks(void* dst, const void* src, size_t element_size, const std::vector<int64_t>& offsets, int64_t block,
                   ThreadPool& pool);

// dst[offsets[i] + j] = combine(dst[offsets[i] + j], updates[i * block + j]), in order, so that
// duplicate offsets accumulate (or the last write wins).
template <class T, class Combine>
void scatter_blocks(T* dst, const T* updates, const std::vector<int64_t>& offsets, int64_t block, Combine combine) {
  for (size_t i = 0; i < offsets.size(); ++i) {
    T* out = dst + offsets[i];
    const T* in = updates + static_cast<int64_t>(i) * block;
    for (int64_t j = 0; j < block; ++j) out[j] = combine(out[j], in[j]);
  }
}

}  // namespace kiln::kernels
