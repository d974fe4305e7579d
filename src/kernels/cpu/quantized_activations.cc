#include "kernels/cpu/quantized_activations.h"

#include <algorithm>
#include <cmath>

namespace kiln::kernels {

void prepare_quantized_activations(int64_t rows, int64_t cols, QuantizedActivations& out) {
  out.rows = rows;
  out.cols = cols;
  out.blocks = (cols + 31) / 32;
  out.q.resize_discarding(static_cast<size_t>(rows * out.blocks * 32));
  out.scale.resize_discarding(static_cast<size_t>(rows * out.blocks));
  out.block_sum.resize_discarding(static_cast<size_t>(rows * out.blocks));
}

void quantize_activation_rows_ref(const float* x, int64_t ldx, int64_t r0, int64_t r1, QuantizedActivations& out) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * ldx;
    int8_t* q = out.q.data() + r * out.blocks * 32;
    for (int64_t b = 0; b < out.blocks; ++b) {
      const int64_t c0 = b * 32, c1 = std::min(out.cols, c0 + 32);
      float amax = 0.f;
      for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::abs(xr[c]));
      const float s = amax / 127.f, inverse = s != 0.f ? 1.f / s : 0.f;
      int32_t sum = 0;
      for (int64_t c = c0; c < c0 + 32; ++c) {
        const int8_t v = c < c1 ? static_cast<int8_t>(std::nearbyint(xr[c] * inverse)) : 0;
        q[c] = v;
        sum += v;
      }
      out.scale.data()[r * out.blocks + b] = s;
      out.block_sum.data()[r * out.blocks + b] = sum;
    }
  }
}

void quantize_activations(CpuLevel level, const float* x, int64_t ldx, int64_t rows, int64_t cols,
                          QuantizedActivations& out, ThreadPool& pool) {
  prepare_quantized_activations(rows, cols, out);
  pool.parallel_for(rows, [&](int64_t r0, int64_t r1) {
    if (level == CpuLevel::Avx512)
      quantize_activation_rows_avx512(x, ldx, r0, r1, out);
    else
      quantize_activation_rows_ref(x, ldx, r0, r1, out);
  }, 16);
}

}  // namespace kiln::kernels
