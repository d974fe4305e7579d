// Level 2: Mul(x, Sigmoid(x)) (either operand order)  =>  kiln.Silu(x), which FuseActivation then
// folds into the producer's epilogue: a Llama MLP's gate projection becomes one FusedMatMul.
#pragma once

#include "passes/pass.h"

namespace kiln::passes {

class FuseSilu final : public GraphPass {
 public:
  const char* name() const override { return "FuseSilu"; }
  int run(ir::Model& model) const override;
};

}  // namespace kiln::passes
