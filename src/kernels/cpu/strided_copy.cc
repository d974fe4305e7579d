#include "kernels/cpu/strided_copy.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu/element_bytes.h"

namespace kiln::kernels {
namespace {

// Rows of the output (all axes but the last) are split across threads; each row is one pass over
// the innermost axis, whose source offsets are computed once for the whole copy.
template <class E>
void copy_rows(E* dst, const E* src, const std::vector<AxisSource>& axes, const E* fill, ThreadPool& pool) {
  const size_t rank = axes.size();
  if (rank == 0) {
    dst[0] = src[0];
    return;
  }
  const AxisSource& last = axes[rank - 1];
  const int64_t inner = static_cast<int64_t>(last.source.size());
  std::vector<int64_t> inner_offsets(static_cast<size_t>(inner));
  bool contiguous = true;
  for (int64_t j = 0; j < inner; ++j) {
    const int64_t s = last.source[static_cast<size_t>(j)];
    inner_offsets[static_cast<size_t>(j)] = s < 0 ? kFillCoordinate : s * last.stride;
    contiguous = contiguous && s >= 0 && inner_offsets[static_cast<size_t>(j)] == inner_offsets[0] + j;
  }
  const int64_t rows = shape_numel(output_shape(axes)) / (inner == 0 ? 1 : inner);
  if (inner == 0 || rows == 0) return;

  pool.parallel_for(
      rows,
      [&](int64_t begin, int64_t end) {
        std::vector<int64_t> index(rank - 1, 0);
        for (int64_t r = begin, ax = static_cast<int64_t>(rank) - 2; ax >= 0; --ax) {
          const int64_t dim = static_cast<int64_t>(axes[static_cast<size_t>(ax)].source.size());
          index[static_cast<size_t>(ax)] = r % dim;
          r /= dim;
        }
        for (int64_t row = begin; row < end; ++row) {
          int64_t base = 0;
          bool filled = false;
          for (size_t ax = 0; ax + 1 < rank; ++ax) {
            const int64_t s = axes[ax].source[static_cast<size_t>(index[ax])];
            filled = filled || s < 0;
            base += s * axes[ax].stride;
          }
          E* out = dst + row * inner;
          if (filled) {
            for (int64_t j = 0; j < inner; ++j) out[j] = *fill;
          } else if (contiguous) {
            std::memcpy(out, src + base + inner_offsets[0], static_cast<size_t>(inner) * sizeof(E));
          } else {
            for (int64_t j = 0; j < inner; ++j) {
              const int64_t o = inner_offsets[static_cast<size_t>(j)];
              out[j] = o < 0 ? *fill : src[base + o];
            }
          }
          for (size_t ax = rank - 1; ax-- > 0;) {
            if (++index[ax] < static_cast<int64_t>(axes[ax].source.size())) break;
            index[ax] = 0;
          }
        }
      },
      std::max<int64_t>(1, 16384 / inner));
}

}  // namespace

std::vector<int64_t> dense_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

AxisSource identity_axis(int64_t dim, int64_t stride) {
  AxisSource axis{stride, std::vector<int64_t>(static_cast<size_t>(dim))};
  for (int64_t i = 0; i < dim; ++i) axis.source[static_cast<size_t>(i)] = i;
  return axis;
}

Shape output_shape(const std::vector<AxisSource>& axes) {
  Shape shape;
  for (const auto& a : axes) shape.push_back(static_cast<int64_t>(a.source.size()));
  return shape;
}

void strided_copy(void* dst, const void* src, size_t element_size, const std::vector<AxisSource>& axes,
                  const void* fill, ThreadPool& pool) {
  dispatch_element_size(element_size, [&](auto tag) {
    using E = typename decltype(tag)::type;
    copy_rows(static_cast<E*>(dst), static_cast<const E*>(src), axes, static_cast<const E*>(fill), pool);
  });
}

}  // namespace kiln::kernels
