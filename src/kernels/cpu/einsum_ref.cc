#include "kernels/cpu/einsum_ref.h"

#include <algorithm>
#include <type_traits>

namespace kiln::kernels {
namespace {

// Steps `index` over labels [first, last) as an odometer (last label fastest), moving every operand's
// offset along; returns false once every combination has been visited (offsets back at the start).
bool advance(std::vector<int64_t>& index, size_t first, size_t last, const std::vector<int64_t>& sizes,
             const std::vector<std::vector<int64_t>>& strides, std::vector<int64_t>& offsets) {
  for (size_t l = last; l-- > first;) {
    ++index[l];
    for (size_t k = 0; k < offsets.size(); ++k) offsets[k] += strides[k][l];
    if (index[l] < sizes[l]) return true;
    for (size_t k = 0; k < offsets.size(); ++k) offsets[k] -= strides[k][l] * sizes[l];
    index[l] = 0;
  }
  return false;
}

}  // namespace

template <class T>
void compute_einsum(const std::vector<const T*>& operands, const std::vector<std::vector<int64_t>>& label_strides,
                    const std::vector<int64_t>& label_sizes, size_t output_labels, T* out) {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
  const size_t labels = label_sizes.size();
  // The odometers below visit at least one combination, so an empty label is handled here: no
  // outputs, or outputs that are empty sums.
  if (std::find(label_sizes.begin(), label_sizes.end(), 0) != label_sizes.end()) {
    int64_t count = 1;
    for (size_t l = 0; l < output_labels; ++l) count *= label_sizes[l];
    std::fill(out, out + count, T(0));
    return;
  }
  std::vector<int64_t> index(labels, 0);
  std::vector<int64_t> base(operands.size(), 0);
  int64_t o = 0;
  do {
    Acc sum = 0;
    std::vector<int64_t> offsets = base;
    do {
      Acc product = 1;
      for (size_t k = 0; k < operands.size(); ++k) product *= static_cast<Acc>(operands[k][offsets[k]]);
      sum += product;
    } while (advance(index, output_labels, labels, label_sizes, label_strides, offsets));
    out[o++] = static_cast<T>(sum);
  } while (advance(index, 0, output_labels, label_sizes, label_strides, base));
}

#define KILN_INSTANTIATE_EINSUM(T)                                                                            \
  template void compute_einsum<T>(const std::vector<const T*>&, const std::vector<std::vector<int64_t>>&, \
                                  const std::vector<int64_t>&, size_t, T*);
KILN_INSTANTIATE_EINSUM(float)
KILN_INSTANTIATE_EINSUM(double)
KILN_INSTANTIATE_EINSUM(int32_t)
KILN_INSTANTIATE_EINSUM(int64_t)
#undef KILN_INSTANTIATE_EINSUM

}  // namespace kiln::kernels
