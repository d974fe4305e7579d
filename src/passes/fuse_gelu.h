// Level 2: GELU as exporters write it, x * 0.5 * (1 + erf(x / sqrt 2)), in any of its three
// groupings of the products (Mul(Mul(x, a), 0.5), Mul(Mul(x, 0.5), a), Mul(x, Mul(a, 0.5)) with
// a = Add(Erf(Div(x, sqrt 2)), 1); Mul by 1 / sqrt 2 for the Div too)  =>  kiln.Gelu(x): one pass
// instead of five, which FuseActivation can then fold into the producer's epilogue.
// The tanh form (GPT-2's, PyTorch's approximate = "tanh") has a = Add(Tanh(Mul(sqrt(2 / pi),
// Add(x, Mul(0.044715, x^3)))), 1), with x^3 as Pow(x, 3) or two Muls  =>  kiln.Gelu(x) with
// approximate = "tanh".
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FuseGelu final : public GraphPass {
 public:
  const char* name() const override { return "FuseGelu"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
