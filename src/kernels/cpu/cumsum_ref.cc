#include "kernels/cpu/cumsum_ref.h"

namespace kiln::kernels {

// The inner dim is the innermost loop so the running sums of one axis step update contiguously.
template <class T>
void compute_cumsum(const T* x, T* y, int64_t outer, int64_t axis_dim, int64_t inner, bool exclusive, bool reverse) {
  for (int64_t o = 0; o < outer; ++o) {
    const T* in = x + o * axis_dim * inner;
    T* out = y + o * axis_dim * inner;
    for (int64_t step = 0; step < axis_dim; ++step) {
      const int64_t a = reverse ? axis_dim - 1 - step : step;
      const int64_t previous = reverse ? a + 1 : a - 1;
      for (int64_t i = 0; i < inner; ++i) {
        const T carried = step == 0 ? T{0} : out[previous * inner + i];
        const T added = !exclusive ? in[a * inner + i] : step == 0 ? T{0} : in[previous * inner + i];
        out[a * inner + i] = static_cast<T>(carried + added);
      }
    }
  }
}

template void compute_cumsum<float>(const float*, float*, int64_t, int64_t, int64_t, bool, bool);
template void compute_cumsum<double>(const double*, double*, int64_t, int64_t, int64_t, bool, bool);
template void compute_cumsum<int32_t>(const int32_t*, int32_t*, int64_t, int64_t, int64_t, bool, bool);
template void compute_cumsum<int64_t>(const int64_t*, int64_t*, int64_t, int64_t, int64_t, bool, bool);
template void compute_cumsum<uint32_t>(const uint32_t*, uint32_t*, int64_t, int64_t, int64_t, bool, bool);
template void compute_cumsum<uint64_t>(const uint64_t*, uint64_t*, int64_t, int64_t, int64_t, bool, bool);

}  // namespace kiln::kernels
