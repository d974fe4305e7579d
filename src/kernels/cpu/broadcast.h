// Numpy-style multidirectional broadcasting. An input's strides over the output shape are 0 on the
// axes it broadcasts, so one loop nest serves every combination of shapes.
#pragma once

#include <cstdint>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::kernels {

// The broadcast result shape; throws InvalidArgument when the shapes are incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b);
// True when `in` broadcasts to exactly `out` (ONNX's unidirectional broadcasting, as of Gemm's C).
bool broadcasts_to(const Shape& in, const Shape& out);
// Element strides of a dense tensor of shape `in` as seen from `out` (right-aligned, 0 on broadcast axes).
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);

// Calls fn(out_index, offsets) for every element of `out`, where offsets[k] indexes input k. The
// innermost axis is walked with a plain loop so that fn inlines into a tight loop.
template <size_t N, class F>
void for_each_broadcast(const Shape& out, const std::vector<int64_t> (&strides)[N], F&& fn) {
  const int64_t total = shape_numel(out);
  if (total == 0) return;
  const size_t rank = out.size();
  const int64_t inner = rank ? out[rank - 1] : 1;
  std::vector<int64_t> index(rank, 0);
  int64_t offsets[N] = {};
  int64_t inner_stride[N] = {};
  for (size_t k = 0; k < N; ++k) inner_stride[k] = rank ? strides[k][rank - 1] : 0;
  for (int64_t base = 0; base < total; base += inner) {
    int64_t o[N];
    for (size_t k = 0; k < N; ++k) o[k] = offsets[k];
    for (int64_t i = 0; i < inner; ++i) {
      fn(base + i, o);
      for (size_t k = 0; k < N; ++k) o[k] += inner_stride[k];
    }
    // Advance the multi-index over the outer axes.
    for (size_t ax = rank == 0 ? 0 : rank - 1; ax-- > 0;) {
      ++index[ax];
      for (size_t k = 0; k < N; ++k) offsets[k] += strides[k][ax];
      if (index[ax] < out[ax]) break;
      for (size_t k = 0; k < N; ++k) offsets[k] -= strides[k][ax] * out[ax];
      index[ax] = 0;
    }
  }
}

}  // namespace kiln::kernels
