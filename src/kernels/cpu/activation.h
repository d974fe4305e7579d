// Activations that GEMM and convolution epilogues apply to their results while still in cache.
// The scalar definitions here are the reference; fast epilogues compile the same expressions with
// wider instruction sets.
#pragma once

#include <algorithm>
#include <cmath>

namespace kiln::kernels {

// Gelu is the exact (erf) form, x * (1 + erf(x / sqrt 2)) / 2; GeluTanh its tanh approximation
// (GPT-2's, and ONNX Gelu's approximate = "tanh"), x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) / 2;
// Silu is x * sigmoid(x).
enum class ActivationKind { None, Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh, Gelu, GeluTanh, Silu };

inline constexpr float kSqrtHalf = 0.70710678118654752f;
inline constexpr float kSqrtTwoOverPi = 0.79788456080286536f;
inline constexpr float kGeluCubic = 0.044715f;

// The argument of tanh in GeluTanh.
inline float gelu_tanh_inner(float x) { return kSqrtTwoOverPi * (x + kGeluCubic * x * x * x); }

struct Activation {
  ActivationKind kind = ActivationKind::None;
  // Clip: [alpha, beta] bounds; LeakyRelu: alpha is the negative slope; HardSigmoid: alpha*x+beta.
  float alpha = 0.f, beta = 0.f;
};

inline float apply_activation_ref(const Activation& act, float x) {
  switch (act.kind) {
    case ActivationKind::None: return x;
    case ActivationKind::Relu: return std::max(x, 0.f);
    case ActivationKind::Clip: return std::min(std::max(x, act.alpha), act.beta);
    case ActivationKind::LeakyRelu: return x >= 0.f ? x : x * act.alpha;
    case ActivationKind::Sigmoid: return 1.f / (1.f + std::exp(-x));
    case ActivationKind::HardSigmoid: return std::max(0.f, std::min(1.f, act.alpha * x + act.beta));
    case ActivationKind::HardSwish: return x * std::max(0.f, std::min(1.f, x / 6.f + 0.5f));
    case ActivationKind::Tanh: return std::tanh(x);
    case ActivationKind::Gelu: return 0.5f * x * (1.f + std::erf(x * kSqrtHalf));
    case ActivationKind::GeluTanh: return 0.5f * x * (1.f + std::tanh(gelu_tanh_inner(x)));
    case ActivationKind::Silu: return x / (1.f + std::exp(-x));
  }
  return x;
}

}  // namespace kiln::kernels
