// A dense copy in which every output axis reads the source through its own index map. Output
// coordinate i along axis k reads source coordinate axes[k].source[i] (stepping axes[k].stride source
// elements per coordinate), or the fill element when that coordinate is negative. One loop serves
// Transpose (permuted strides), Slice (start + i * step), Pad (shifted, reflected, clamped or filled
// coordinates), Tile (i mod dim) and Expand (stride 0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "kiln/tensor.h"

namespace kiln::kernels {

// Marks an output coordinate that takes the fill element instead of a source element.
inline constexpr int64_t kFillCoordinate = -1;

struct AxisSource {
  int64_t stride = 0;           // source elements between consecutive source coordinates
  std::vector<int64_t> source;  // per output coordinate: a source coordinate or kFillCoordinate
};

// Row-major element strides of a dense tensor of this shape.
std::vector<int64_t> dense_strides(const Shape& shape);
// Output coordinate i reads source coordinate i.
AxisSource identity_axis(int64_t dim, int64_t stride);
// The output shape an axis list describes.
Shape output_shape(const std::vector<AxisSource>& axes);

// Fills `dst` (dense, shape output_shape(axes)) from `src`. `fill` points at one element and may be
// null when no coordinate is kFillCoordinate. element_size is 1, 2, 4 or 8 bytes.
void strided_copy(void* dst, const void* src, size_t element_size, const std::vector<AxisSource>& axes,
                  const void* fill, ThreadPool& pool);

}  // namespace kiln::kernels
