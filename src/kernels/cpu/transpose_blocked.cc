#include "kernels/cpu/transpose_blocked.h"

#include <algorithm>

#include "kernels/cpu/element_bytes.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/transpose_bytes.h"

namespace kiln::kernels {
namespace {

// 16 x 16 tiles: 16 floats are one cache line.
constexpr int64_t kTransposeTile = 16;

// The permutation with size-1 axes dropped and runs of axes that stay adjacent (and in order)
// merged into one: e.g. NCHW -> NHWC becomes [N, C, HW] -> [N, HW, C].
struct CanonicalPermutation {
  std::vector<int64_t> dims;  // input dims
  std::vector<int64_t> perm;  // output axis k is input axis perm[k]
};

CanonicalPermutation canonicalize(const Shape& shape, const std::vector<int64_t>& perm) {
  // Input axes that survive dropping size-1 dims, renumbered.
  std::vector<int64_t> renumbered(shape.size(), -1);
  std::vector<int64_t> dims;
  for (size_t a = 0; a < shape.size(); ++a)
    if (shape[a] != 1) {
      renumbered[a] = static_cast<int64_t>(dims.size());
      dims.push_back(shape[a]);
    }
  // Output order of the surviving axes, as groups of input axes that follow each other.
  std::vector<std::vector<int64_t>> groups;
  for (int64_t p : perm) {
    const int64_t a = renumbered[static_cast<size_t>(p)];
    if (a < 0) continue;
    if (!groups.empty() && groups.back().back() + 1 == a)
      groups.back().push_back(a);
    else
      groups.push_back({a});
  }
  // Each group becomes one input axis; number them in input order.
  std::vector<size_t> by_input(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) by_input[g] = g;
  std::sort(by_input.begin(), by_input.end(), [&](size_t x, size_t y) { return groups[x][0] < groups[y][0]; });
  CanonicalPermutation c{std::vector<int64_t>(groups.size()), std::vector<int64_t>(groups.size())};
  for (size_t rank = 0; rank < by_input.size(); ++rank) {
    int64_t size = 1;
    for (int64_t a : groups[by_input[rank]]) size *= dims[static_cast<size_t>(a)];
    c.dims[rank] = size;
    c.perm[by_input[rank]] = static_cast<int64_t>(rank);
  }
  return c;
}

template <class E>
void transpose_tiles(E* dst, const E* src, const CanonicalPermutation& c, const VecIsa* isa, ThreadPool& pool) {
  const size_t rank = c.dims.size();
  std::vector<int64_t> in_strides(rank, 1), out_dims(rank);
  for (size_t a = rank - 1; a-- > 0;) in_strides[a] = in_strides[a + 1] * c.dims[a + 1];
  for (size_t k = 0; k < rank; ++k) out_dims[k] = c.dims[static_cast<size_t>(c.perm[k])];
  std::vector<int64_t> out_strides(rank, 1);
  for (size_t k = rank - 1; k-- > 0;) out_strides[k] = out_strides[k + 1] * out_dims[k + 1];

  // The tile plane: i runs along the input's innermost axis (output axis q), j along the output's
  // innermost axis (input axis perm.back()).
  const size_t q = static_cast<size_t>(std::find(c.perm.begin(), c.perm.end(), rank - 1) - c.perm.begin());
  const int64_t ni = c.dims.back(), nj = out_dims.back();
  const int64_t i_step = out_strides[q], j_step = in_strides[static_cast<size_t>(c.perm.back())];
  // The other output axes, over which the plane repeats.
  std::vector<int64_t> outer_dims, outer_in, outer_out;
  for (size_t k = 0; k + 1 < rank; ++k)
    if (k != q) {
      outer_dims.push_back(out_dims[k]);
      outer_in.push_back(in_strides[static_cast<size_t>(c.perm[k])]);
      outer_out.push_back(out_strides[k]);
    }
  int64_t planes = 1;
  for (int64_t d : outer_dims) planes *= d;

  const int64_t i_tiles = (ni + kTransposeTile - 1) / kTransposeTile;
  const int64_t tile_elements = kTransposeTile * nj;
  pool.parallel_for(
      planes * i_tiles,
      [&](int64_t begin, int64_t end) {
        for (int64_t item = begin; item < end; ++item) {
          int64_t plane = item / i_tiles, in_base = 0, out_base = 0;
          for (size_t d = outer_dims.size(); d-- > 0;) {
            const int64_t index = plane % outer_dims[d];
            plane /= outer_dims[d];
            in_base += index * outer_in[d];
            out_base += index * outer_out[d];
          }
          const int64_t i0 = item % i_tiles * kTransposeTile, i1 = std::min(ni, i0 + kTransposeTile);
          if constexpr (sizeof(E) == 1) {
            transpose_bytes(reinterpret_cast<const uint8_t*>(src + in_base + i0), nj, j_step,
                            reinterpret_cast<uint8_t*>(dst + out_base + i0 * i_step), i_step, 0, 0, i1 - i0);
            continue;
          }
          if constexpr (sizeof(E) == 4) {
            if (isa) {
              // The tile as a matrix: nj rows of the source (stride j_step), i1 - i0 columns.
              isa->transpose_32(reinterpret_cast<const uint32_t*>(src + in_base + i0), j_step,
                                reinterpret_cast<uint32_t*>(dst + out_base + i0 * i_step), i_step, nj, i1 - i0);
              continue;
            }
          }
          for (int64_t j0 = 0; j0 < nj; j0 += kTransposeTile) {
            const int64_t j1 = std::min(nj, j0 + kTransposeTile);
            for (int64_t i = i0; i < i1; ++i) {
              E* out = dst + out_base + i * i_step;
              const E* in = src + in_base + i;
              for (int64_t j = j0; j < j1; ++j) out[j] = in[j * j_step];
            }
          }
        }
      },
      std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(tile_elements, 1)));
}

}  // namespace

bool transpose_blocked(void* dst, const void* src, size_t element_size, const Shape& shape,
                       const std::vector<int64_t>& perm, const VecIsa* isa, ThreadPool& pool) {
  if (shape_numel(shape) == 0) return false;
  const CanonicalPermutation c = canonicalize(shape, perm);
  if (c.perm.size() < 2 || c.perm.back() == static_cast<int64_t>(c.perm.size()) - 1) return false;
  dispatch_element_size(element_size, [&](auto tag) {
    using E = typename decltype(tag)::type;
    transpose_tiles(static_cast<E*>(dst), static_cast<const E*>(src), c, isa, pool);
  });
  return true;
}

}  // namespace kiln::kernels
