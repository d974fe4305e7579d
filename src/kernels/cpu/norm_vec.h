// Vectorized LayerNormalization and RMSNormalization rows and the scale-and-shift of inference
// BatchNormalization (VecIsa::layer_norm_rows, rms_norm_rows, scale_shift). Statistics are accumulated in float over
// lane-parallel partial sums (the reference uses double); two passes, mean then squared
// deviations, avoid the cancellation of E[x^2] - E[x]^2. Compiled per instruction set by
// vec_isa_<level>.cc.
//
// Internal linkage and builtins only, for the reason given in vec_math.h.
#pragma once

#include <cstdint>

#include "kernels/cpu/vec_reduce.h"

namespace kiln::kernels {
namespace {

[[maybe_unused]] void vec_layer_norm_rows(const float* x, float* y, int64_t rows, int64_t cols, const float* scale,
                                          const float* bias, float epsilon, float* mean_out, float* inv_std_dev_out) {
  const float inverse_cols = cols > 0 ? 1.f / static_cast<float>(cols) : 0.f;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    const float mean = vec_sum(xr, cols) * inverse_cols;
    const float variance = vec_sum_squared_deviations(xr, cols, mean) * inverse_cols;
    const float inv_std_dev = 1.f / __builtin_sqrtf(variance + epsilon);
    if (bias)
      for (int64_t i = 0; i < cols; ++i) yr[i] = (xr[i] - mean) * inv_std_dev * scale[i] + bias[i];
    else
      for (int64_t i = 0; i < cols; ++i) yr[i] = (xr[i] - mean) * inv_std_dev * scale[i];
    if (mean_out) mean_out[r] = mean;
    if (inv_std_dev_out) inv_std_dev_out[r] = inv_std_dev;
  }
}

[[maybe_unused]] void vec_rms_norm_rows(const float* x, float* y, int64_t rows, int64_t cols, const float* scale,
                                        float epsilon) {
  const float inverse_cols = cols > 0 ? 1.f / static_cast<float>(cols) : 0.f;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    const float inv_rms = 1.f / __builtin_sqrtf(vec_sum_squared_deviations(xr, cols, 0.f) * inverse_cols + epsilon);
    for (int64_t i = 0; i < cols; ++i) yr[i] = xr[i] * inv_rms * scale[i];
  }
}

[[maybe_unused]] void vec_scale_shift(const float* x, float* y, int64_t n, float multiplier, float offset) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * multiplier + offset;
}

}  // namespace
}  // namespace kiln::kernels
