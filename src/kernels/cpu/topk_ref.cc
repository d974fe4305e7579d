#include "kernels/cpu/topk_ref.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>
#include <vector>

namespace kiln::kernels {
namespace {

template <class T>
bool ranks_above(T x, T y) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(x)) return !std::isnan(y);
  }
  return x > y;
}

}  // namespace

template <class T>
void compute_topk(const T* in, int64_t outer, int64_t n, int64_t inner, int64_t k, bool largest, T* values,
                  int64_t* indices) {
  std::vector<T> column(static_cast<size_t>(n));
  std::vector<int64_t> order(static_cast<size_t>(n));
  // A strict weak order on positions: by value in the requested direction, then by position.
  const auto before = [&](int64_t a, int64_t b) {
    const T va = column[static_cast<size_t>(a)], vb = column[static_cast<size_t>(b)];
    if (largest ? ranks_above(va, vb) : ranks_above(vb, va)) return true;
    if (largest ? ranks_above(vb, va) : ranks_above(va, vb)) return false;
    return a < b;
  };
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const T* src = in + o * n * inner + i;
      for (int64_t m = 0; m < n; ++m) column[static_cast<size_t>(m)] = src[m * inner];
      std::iota(order.begin(), order.end(), int64_t{0});
      std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
      for (int64_t m = 0; m < k; ++m) {
        const int64_t out = (o * k + m) * inner + i;
        indices[out] = order[static_cast<size_t>(m)];
        values[out] = column[static_cast<size_t>(order[static_cast<size_t>(m)])];
      }
    }
  }
}

template void compute_topk<float>(const float*, int64_t, int64_t, int64_t, int64_t, bool, float*, int64_t*);
template void compute_topk<double>(const double*, int64_t, int64_t, int64_t, int64_t, bool, double*, int64_t*);
template void compute_topk<int32_t>(const int32_t*, int64_t, int64_t, int64_t, int64_t, bool, int32_t*, int64_t*);
template void compute_topk<int64_t>(const int64_t*, int64_t, int64_t, int64_t, int64_t, bool, int64_t*, int64_t*);

}  // namespace kiln::kernels
