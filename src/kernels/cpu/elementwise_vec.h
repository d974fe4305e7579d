// Vectorized activations and float arithmetic (VecIsa::unary, VecIsa::binary), written once as
// plain loops over inlined functors and compiled per instruction set by vec_isa_<level>.cc.
// Relu, LeakyRelu, Clip, Sqrt, Neg, Abs and the arithmetic match the reference ops bit for bit; the
// others within the accuracy of vec_math.h (HardSigmoid and HardSwish only by the fused
// multiply-add the compiler may form).
//
// Internal linkage and builtins only, for the reason given in vec_math.h.
#pragma once

#include <cstdint>

#include "kernels/cpu/activation.h"
#include "kernels/cpu/vec_isa.h"
#include "kernels/cpu/vec_math.h"

namespace kiln::kernels {
namespace {

template <class F>
void map_unary(const float* x, float* y, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

// The clamps are written as the reference's comparisons so that NaN propagates the same way.
inline float clamp_unit(float v) { return v < 0.f ? 0.f : (1.f < v ? 1.f : v); }

[[maybe_unused]] void vec_unary(const UnaryOp& op, const float* x, float* y, int64_t n) {
  const float alpha = op.alpha, beta = op.beta;
  switch (op.kind) {
    case UnaryKind::Relu: return map_unary(x, y, n, [](float v) { return v < 0.f ? 0.f : v; });
    case UnaryKind::LeakyRelu: return map_unary(x, y, n, [alpha](float v) { return v < 0.f ? alpha * v : v; });
    case UnaryKind::Clip:
      return map_unary(x, y, n, [alpha, beta](float v) {
        const float raised = v < alpha ? alpha : v;
        return raised > beta ? beta : raised;
      });
    case UnaryKind::HardSigmoid:
      return map_unary(x, y, n, [alpha, beta](float v) { return clamp_unit(alpha * v + beta); });
    case UnaryKind::HardSwish: return map_unary(x, y, n, [](float v) { return v * clamp_unit(v / 6.f + 0.5f); });
    case UnaryKind::Sigmoid: return map_unary(x, y, n, [](float v) { return vec_sigmoid(v); });
    case UnaryKind::Tanh: return map_unary(x, y, n, [](float v) { return vec_tanh(v); });
    case UnaryKind::Erf: return map_unary(x, y, n, [](float v) { return vec_erf(v); });
    case UnaryKind::Silu: return map_unary(x, y, n, [](float v) { return v * vec_sigmoid(v); });
    case UnaryKind::Gelu: return map_unary(x, y, n, [](float v) { return 0.5f * v * (1.f + vec_erf(v * kSqrtHalf)); });
    case UnaryKind::GeluTanh:
      return map_unary(x, y, n, [](float v) { return 0.5f * v * (1.f + vec_tanh(gelu_tanh_inner(v))); });
    case UnaryKind::Exp: return map_unary(x, y, n, [](float v) { return vec_exp(v); });
    case UnaryKind::Sqrt: return map_unary(x, y, n, [](float v) { return __builtin_sqrtf(v); });
    case UnaryKind::Neg: return map_unary(x, y, n, [](float v) { return -v; });
    case UnaryKind::Abs: return map_unary(x, y, n, [](float v) { return __builtin_fabsf(v); });
  }
}

// A Scalar operand is read once, before the loop, so the loop body is pure vector work.
template <Operand A, Operand B, class F>
void map_binary(const float* a, const float* b, float* y, int64_t n, F f) {
  if (n <= 0) return;
  const float a0 = a[0], b0 = b[0];
  for (int64_t i = 0; i < n; ++i) y[i] = f(A == Operand::Scalar ? a0 : a[i], B == Operand::Scalar ? b0 : b[i]);
}

template <class F>
void map_binary_forms(const float* a, Operand a_form, const float* b, Operand b_form, float* y, int64_t n, F f) {
  constexpr Operand V = Operand::Vector, S = Operand::Scalar;
  if (a_form == V && b_form == V) return map_binary<V, V>(a, b, y, n, f);
  if (a_form == V) return map_binary<V, S>(a, b, y, n, f);
  if (b_form == V) return map_binary<S, V>(a, b, y, n, f);
  return map_binary<S, S>(a, b, y, n, f);
}

[[maybe_unused]] void vec_binary(BinaryKind kind, const float* a, Operand a_form, const float* b, Operand b_form,
                                 float* y, int64_t n) {
  switch (kind) {
    case BinaryKind::Add: return map_binary_forms(a, a_form, b, b_form, y, n, [](float p, float q) { return p + q; });
    case BinaryKind::Sub: return map_binary_forms(a, a_form, b, b_form, y, n, [](float p, float q) { return p - q; });
    case BinaryKind::Mul: return map_binary_forms(a, a_form, b, b_form, y, n, [](float p, float q) { return p * q; });
    case BinaryKind::Div: return map_binary_forms(a, a_form, b, b_form, y, n, [](float p, float q) { return p / q; });
  }
}

}  // namespace
}  // namespace kiln::kernels
