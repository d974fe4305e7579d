#include "kernels/cpu/gather_scatter_ref.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu/strided_copy.h"

namespace kiln::kernels {

int64_t checked_index(int64_t index, int64_t dim) {
  if (index < -dim || index >= dim)
    throw Error(ErrorCode::InvalidArgument,
                "index " + std::to_string(index) + " is out of range for an axis of size " + std::to_string(dim));
  return index < 0 ? index + dim : index;
}

std::vector<int64_t> gather_offsets(int64_t outer, int64_t axis_dim, int64_t inner,
                                    const std::vector<int64_t>& indices) {
  std::vector<int64_t> normalized;
  for (int64_t i : indices) normalized.push_back(checked_index(i, axis_dim));
  std::vector<int64_t> offsets;
  offsets.reserve(static_cast<size_t>(outer) * normalized.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : normalized) offsets.push_back((o * axis_dim + i) * inner);
  return offsets;
}

std::vector<int64_t> element_offsets(const Shape& data_shape, const Shape& index_shape,
                                     const std::vector<int64_t>& indices, size_t axis) {
  const std::vector<int64_t> strides = dense_strides(data_shape);
  const size_t rank = index_shape.size();
  std::vector<int64_t> offsets(indices.size());
  std::vector<int64_t> coord(rank, 0);
  int64_t base = 0;  // offset of `coord` with the axis coordinate left out
  for (size_t i = 0; i < indices.size(); ++i) {
    offsets[i] = base + checked_index(indices[i], data_shape[axis]) * strides[axis];
    for (size_t d = rank; d-- > 0;) {
      const int64_t step = d == axis ? 0 : strides[d];
      if (++coord[d] < index_shape[d]) {
        base += step;
        break;
      }
      base -= step * (coord[d] - 1);
      coord[d] = 0;
    }
  }
  return offsets;
}

std::vector<int64_t> nd_offsets(const Shape& data_shape, const Shape& index_shape, const std::vector<int64_t>& indices,
                                int64_t batch_dims) {
  const std::vector<int64_t> strides = dense_strides(data_shape);
  const size_t b = static_cast<size_t>(batch_dims);
  const size_t q = static_cast<size_t>(index_shape.back());
  const int64_t batch_stride = b == 0 ? 0 : strides[b - 1];
  const int64_t tuples = shape_numel(Shape(index_shape.begin(), index_shape.end() - 1));
  const int64_t tuples_per_batch = shape_numel(Shape(index_shape.begin() + batch_dims, index_shape.end() - 1));
  std::vector<int64_t> offsets(static_cast<size_t>(tuples));
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t offset = tuples_per_batch == 0 ? 0 : t / tuples_per_batch * batch_stride;
    for (size_t j = 0; j < q; ++j)
      offset += checked_index(indices[static_cast<size_t>(t) * q + j], data_shape[b + j]) * strides[b + j];
    offsets[static_cast<size_t>(t)] = offset;
  }
  return offsets;
}

void gather_blocks(void* dst, const void* src, size_t element_size, const std::vector<int64_t>& offsets, int64_t block,
                   ThreadPool& pool) {
  const size_t block_bytes = static_cast<size_t>(block) * element_size;
  auto* out = static_cast<unsigned char*>(dst);
  const auto* in = static_cast<const unsigned char*>(src);
  pool.parallel_for(
      static_cast<int64_t>(offsets.size()),
      [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
          std::memcpy(out + static_cast<size_t>(i) * block_bytes,
                      in + static_cast<size_t>(offsets[static_cast<size_t>(i)]) * element_size, block_bytes);
      },
      std::max<int64_t>(1, 65536 / std::max<int64_t>(1, static_cast<int64_t>(block_bytes))));
}

}  // namespace kiln::kernels
