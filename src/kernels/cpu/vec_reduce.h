// Reductions written so that they vectorize without -ffast-math: the compiler may not reorder a
// floating-point sum, so the sum is kept in kReduceLanes independent partial results (two
// AVX-512 or four AVX2 registers, enough to hide the add latency), folded at the end. The order
// of additions therefore differs from a sequential loop by rounding only.
//
// Internal linkage and builtins only, for the reason given in vec_math.h.
#pragma once

#include <cstdint>

namespace kiln::kernels {
namespace {

constexpr int64_t kReduceLanes = 32;

// Folds step(partial, x[i]) over x in kReduceLanes interleaved partials starting at `identity`,
// then merges the partials with merge(a, b).
template <class Step, class Merge>
float vec_reduce(const float* x, int64_t n, float identity, Step step, Merge merge) {
  float partial[kReduceLanes];
  for (int64_t j = 0; j < kReduceLanes; ++j) partial[j] = identity;
  int64_t i = 0;
  for (; i + kReduceLanes <= n; i += kReduceLanes)
    for (int64_t j = 0; j < kReduceLanes; ++j) partial[j] = step(partial[j], x[i + j]);
  for (int64_t j = 0; i + j < n; ++j) partial[j] = step(partial[j], x[i + j]);
  for (int64_t width = kReduceLanes / 2; width > 0; width /= 2)
    for (int64_t j = 0; j < width; ++j) partial[j] = merge(partial[j], partial[j + width]);
  return partial[0];
}

[[maybe_unused]] float vec_sum(const float* x, int64_t n) {
  const auto add = [](float a, float b) { return a + b; };
  return vec_reduce(x, n, 0.f, add, add);
}

// The maximum, -inf for an empty range. NaNs are skipped (as std::max skips them in the
// reference softmax when they are not first).
[[maybe_unused]] float vec_max(const float* x, int64_t n) {
  const auto larger = [](float a, float b) { return b > a ? b : a; };
  return vec_reduce(x, n, -__builtin_inff(), larger, larger);
}

// The sum of (x[i] - center)^2.
[[maybe_unused]] float vec_sum_squared_deviations(const float* x, int64_t n, float center) {
  return vec_reduce(
      x, n, 0.f,
      [center](float acc, float v) {
        const float d = v - center;
        return acc + d * d;
      },
      [](float a, float b) { return a + b; });
}

}  // namespace
}  // namespace kiln::kernels
