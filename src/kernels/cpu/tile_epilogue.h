// The SGEMM tile epilogue, written once as plain loops and compiled by each sgemm_<level>.cc with
// that level's instruction set, so the compiler vectorizes it as wide as the level allows.
// Everything here has internal linkage on purpose: copies compiled for different instruction sets
// must never be merged by the linker (an AVX-512 copy would crash an AVX2-only CPU).
#pragma once

#include <algorithm>
#include <cmath>

#include "kernels/cpu/sgemm_microkernel.h"
#include "kernels/cpu/vec_math.h"

namespace kiln::kernels {
namespace {

template <class Op>
void transform_tile(float* c, int64_t ldc, int64_t rows, int64_t cols, const TileEpilogue& e, Op op) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = c + r * ldc;
    const float shift = e.row_bias ? e.row_bias[r] : 0.f;
    const float* residual = e.residual ? e.residual + r * e.residual_ld : nullptr;
    if (e.col_bias)
      for (int64_t j = 0; j < cols; ++j) row[j] += e.col_bias[j];
    if (residual)
      for (int64_t j = 0; j < cols; ++j) row[j] += residual[j];
    for (int64_t j = 0; j < cols; ++j) row[j] = op(row[j] + shift);
  }
}

[[maybe_unused]] void apply_tile_epilogue(float* c, int64_t ldc, int64_t rows, int64_t cols, const TileEpilogue& e) {
  const Activation& act = e.activation;
  switch (act.kind) {
    case ActivationKind::None:
      if (!e.row_bias && !e.col_bias && !e.residual) return;
      return transform_tile(c, ldc, rows, cols, e, [](float x) { return x; });
    case ActivationKind::Relu:
      return transform_tile(c, ldc, rows, cols, e, [](float x) { return x > 0.f ? x : 0.f; });
    case ActivationKind::Clip:
      return transform_tile(c, ldc, rows, cols, e, [lo = act.alpha, hi = act.beta](float x) {
        return std::min(std::max(x, lo), hi);
      });
    case ActivationKind::LeakyRelu:
      return transform_tile(c, ldc, rows, cols, e, [a = act.alpha](float x) { return x >= 0.f ? x : x * a; });
    case ActivationKind::HardSigmoid:
      return transform_tile(c, ldc, rows, cols, e, [a = act.alpha, b = act.beta](float x) {
        return std::max(0.f, std::min(1.f, a * x + b));
      });
    case ActivationKind::HardSwish:
      return transform_tile(c, ldc, rows, cols, e,
                            [](float x) { return x * std::max(0.f, std::min(1.f, x * (1.f / 6.f) + 0.5f)); });
    case ActivationKind::Silu:
      return transform_tile(c, ldc, rows, cols, e, [](float x) { return x * vec_sigmoid(x); });
    case ActivationKind::Gelu:
      return transform_tile(c, ldc, rows, cols, e, [](float x) { return 0.5f * x * (1.f + vec_erf(x * kSqrtHalf)); });
    case ActivationKind::GeluTanh:
      return transform_tile(c, ldc, rows, cols, e,
                            [](float x) { return 0.5f * x * (1.f + vec_tanh(gelu_tanh_inner(x))); });
    case ActivationKind::Sigmoid:
    case ActivationKind::Tanh:
      return transform_tile(c, ldc, rows, cols, e, [&act](float x) { return apply_activation_ref(act, x); });
  }
}

}  // namespace
}  // namespace kiln::kernels
